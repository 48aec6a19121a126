/* cmd_train.c: `aezoo train`: the command line of a training run. The run
 * itself (budget, shuffling, checkpoints, train.csv, validation, early
 * stopping, pictures, resume) is the library's ae_run (run/run.h); this
 * file turns options into an ae_run_config and the result into messages
 * and the exit status: 0 done, 1 failed, 2 a usage error, 128 + the
 * signal number when interrupted by SIGINT/SIGTERM (after a checkpoint),
 * as shells expect. */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "base/parallel.h"
#include "commands.h"
#include "common.h"
#include "run/checkpoint.h"
#include "run/run.h"

static const char about[] =
    "Trains MODEL (see `aezoo list`) on --data and writes to --out: model.safetensors\n"
    "(parameters and run metadata), optimizer.safetensors, train.csv (per step: step,\n"
    "stage, epoch, loss, each loss term, test_loss at epoch ends, wall_time), and at the\n"
    "end reconstructions.png, samples.png (generative models) and codes.png (2-unit\n"
    "codes). A checkpoint is written at each epoch end and on Ctrl-C/SIGTERM (exit\n"
    "130/143). --epochs/--steps is the budget of each stage of a stacked model.\n"
    "With --resume DIR, MODEL and the options that change the result may be left out\n"
    "(they come from the checkpoint) or must match it; --epochs/--steps larger than the\n"
    "checkpoint's extend the run. MODEL may be a plugin: ./FILE.so or ./FILE.so:NAME.\n"
    "--val-split F holds out a fraction F of the training data (fixed by --seed): its\n"
    "loss is in train.csv (val_loss) and the progress line at each epoch end, the best\n"
    "model is kept in OUT/best/, and --early-stop N stops after N epochs without a\n"
    "better validation loss.";

int cmd_train(int argc, char **argv) {
  ae_run_config c;
  ae_run_config_init(&c);
  const char *model = NULL;
  int64_t threads = 0;
  cli_list set = {0};
  cli_opt opts[] = {
      {"--data", CLI_STR, "SPEC", "training data: fashion-mnist (default), mnist:DIR, DIR, FILE.npy, IDX file, "
                                  "spiral, swissroll, sines", &c.data, 0, 0, 0},
      {"--test-data", CLI_STR, "SPEC", "test data (default: the test split of --data)", &c.test_data, 0, 0, 0},
      {"--epochs", CLI_INT, "N", "epochs per stage (default 5)", &c.epochs, 1, 1e9, 0},
      {"--steps", CLI_INT, "N", "optimisation steps per stage, instead of --epochs", &c.steps, 1, 1e15, 0},
      {"--batch-size", CLI_INT, "N", "examples per step (default 64)", &c.batch_size, 1, 1 << 20, 0},
      {"--lr", CLI_REAL, "X", "learning rate (default: the optimizer's, e.g. adam 0.001)", &c.lr, 0, 1e30, 0},
      {"--optimizer", CLI_STR, "NAME", "sgd|momentum|nesterov|adam|adamw|nadam|rmsprop|adagrad (default adam)",
       &c.optimizer, 0, 0, 0},
      {"--lr-schedule", CLI_STR, "SPEC", "constant (default), cosine, step:EPOCHS:GAMMA, warmup:STEPS[,cosine]",
       &c.lr_schedule, 0, 0, 0},
      {"--clip-grad-norm", CLI_REAL, "X", "clip the gradients' total 2-norm to X before each step", &c.clip_grad_norm,
       1e-30, 1e30, 0},
      {"--val-split", CLI_REAL, "F", "hold out a fraction F (0 < F < 1) of the training data for validation",
       &c.val_split, 1e-9, 0.999999, 0},
      {"--early-stop", CLI_INT, "N", "stop after N epochs without a better validation loss (needs --val-split)",
       &c.early_stop, 1, 1e9, 0},
      {"--seed", CLI_INT, "N", "seed of initialisation, shuffling, noise, synthetic data (default 1)", &c.seed, 0,
       9.2e18, 0},
      {"--threads", CLI_INT, "N",
       "threads (default: the fastest of 1, 2, 4, ... up to OpenMP's count, all cores, timed on the first steps)",
       &threads, 1, 1024, 0},
      {"--set", CLI_LIST, "KEY=VALUE", "a model setting (repeatable; see `aezoo list`)", &set, 0, 0, 0},
      {"--out", CLI_STR, "DIR", "output directory (default runs/MODEL)", &c.out, 0, 0, 0},
      {"--init", CLI_STR, "FILE", "start from the weights in a safetensors file", &c.init, 0, 0, 0},
      {"--resume", CLI_STR, "DIR", "continue the run checkpointed in DIR", &c.resume, 0, 0, 0},
      {"--no-shuffle", CLI_FLAG, NULL, "keep the data's order in every epoch", &c.no_shuffle, 0, 0, 0},
      {"--limit", CLI_INT, "N", "train on the first N examples only (default: all)", &c.limit, 1, 9.2e18, 0},
      {"--test-limit", CLI_INT, "N", "test loss over the first N test examples (default 2000; 0 = all)",
       &c.test_limit, 0, 9.2e18, 0},
      {"--stop-after", CLI_INT, "N", "stop after N steps of this invocation with a checkpoint (resume later)",
       &c.stop_after, 1, 1e15, 0},
      {"--force", CLI_FLAG, NULL, "replace a run already checkpointed in --out", &c.force, 0, 0, 0},
      {"--allow-data-change", CLI_FLAG, NULL, "with --resume: continue on changed data from the epoch's start",
       &c.allow_data_change, 0, 0, 0},
      {"--no-pictures", CLI_FLAG, NULL, "no pictures at the end", &c.no_pictures, 0, 0, 0},
      {"--quiet", CLI_FLAG, NULL, "no progress output", &c.quiet, 0, 0, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"train", "MODEL", about, 0, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  model = npos ? pos[0] : NULL;
  if (cli_find_opt(opts, nopts, "--epochs")->given && cli_find_opt(opts, nopts, "--steps")->given) {
    cli_error("train: give --epochs or --steps, not both");
    return CLI_USAGE;
  }
  if (!model && !c.resume) {
    cli_error("train: missing argument MODEL; usage: aezoo train MODEL [options] (valid models: see `aezoo list`)");
    return CLI_USAGE;
  }
  if (model && (rc = cli_check_model_args(model, set.n, set.v))) return rc;
  if (threads) ae_set_threads((int)threads);
  c.model = model;
  c.nset = set.n;
  c.set = set.v;
  c.handle_signals = 1;
  c.pick_threads = !threads; /* --threads N is taken as given */
  ae_run_result res;
  rc = ae_run(&c, &res);
  if (rc == -2) {
    cli_error("train: %s", ae_last_error());
    return CLI_USAGE;
  }
  if (rc < 0) {
    cli_error("%s", ae_last_error());
    return CLI_FAIL;
  }
  if (res.status == AE_RUN_INTERRUPTED) {
    int sig = res.signal ? res.signal : SIGINT;
    cli_error("interrupted by %s at step %" PRId64 "; checkpoint written to %s (continue with "
              "`aezoo train --resume %s`)",
              sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal", res.step, res.out, res.out);
    return 128 + sig;
  }
  if (res.status == AE_RUN_STOPPED)
    printf("stopped after %" PRId64 " steps (--stop-after) at step %" PRId64 " of %" PRId64
           "; checkpoint in %s (continue with `aezoo train --resume %s`)\n",
           res.steps_here, res.step, res.total_steps, res.out, res.out);
  return CLI_OK;
}
