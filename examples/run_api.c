/* run_api.c: what `aezoo train` does, from a program: the README's tied-weights
 * model (plugin/tied.c, linked in) registered under its name and trained by
 * the library's run, with the same run directory (checkpoints, train.csv,
 * pictures) the aezoo commands read:  run_api OUT [EPOCHS]  */
#include <stdio.h>
#include <stdlib.h>
#include "aezoo.h"

extern const ae_model_def ae_model_tied_ae;

int main(int argc, char **argv) {
  ae_run_config c;
  ae_run_config_init(&c);
  c.model = "tied-ae";
  c.out = argc > 1 ? argv[1] : "runs/tied-ae";
  c.epochs = argc > 2 ? atoi(argv[2]) : 1;
  c.limit = 2048, c.test_limit = 500, c.val_split = 0.1;
  ae_run_result r;
  if (ae_model_register(&ae_model_tied_ae, NULL) || ae_run(&c, &r) < 0) return fprintf(stderr, "%s\n", ae_last_error()), 1;
  printf("steps %lld test_loss %.6f val_loss %.6f best_val %.6f\n", (long long)r.step, r.test_loss, r.val_loss, r.best_val);
  return 0;
}
