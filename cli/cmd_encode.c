/* cmd_encode.c: `aezoo encode CKPT --out FILE.npy`: the codes (def->encode)
 * of every example of a data set, computed in batches, written as a
 * float32 .npy of shape (N, code shape...); --plot draws 2-unit codes as a
 * scatter plot coloured by label. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "base/parallel.h"
#include "ckpt_data.h"
#include "commands.h"
#include "common.h"
#include "io/npy.h"
#include "io/code_plot.h"
#include "io/plot.h"
#include "run/pictures.h"

#define ENCODE_ARENA ((size_t)1 << 30) /* mmap'd lazily: only what is touched is used */
#define PLOT_SIDE 640

static const char about[] =
    "Writes the codes of the examples of a data set (by default the test split of the\n"
    "data the checkpoint CKPT was trained on) to FILE.npy: float32, shape (N, code...)\n"
    "with row i the code of example i (the vae's code is the posterior mean mu; psd's\n"
    "the sparse code its inference finds). CKPT is a run directory of `aezoo train`\n"
    "or its model.safetensors. --plot draws a 2-unit code as a scatter plot coloured\n"
    "by label (the tab10 colours of labels 0..9).";

/* Encodes x (N, example...) in batches into a new tensor (N, code...);
 * NULL with ae_last_error(). */
static ae_tensor *encode_all(ae_model *m, const ae_tensor *x, int64_t batch) {
  int64_t n = x->shape.d[0], row = m->dim;
  ae_tape *t = ae_tape_new(ENCODE_ARENA);
  ae_tensor *codes = NULL;
  if (!t) {
    ae_set_last_error("encode: %s", ae_last_error());
    return NULL;
  }
  int64_t width = 0;
  for (int64_t lo = 0; lo < n; lo += batch) {
    int64_t b = n - lo < batch ? n - lo : batch;
    ae_shape s = x->shape;
    s.d[0] = b;
    ae_tensor view = *x;
    view.shape = s;
    view.numel = b * row;
    view.data = x->data + lo * row;
    ae_tape_reset(t);
    ae_set_grad_enabled(t, 0);
    ae_val *c = m->def->encode(m, t, ae_const_tensor(t, &view));
    if (!ae_tape_ok(t) || !c) {
      ae_set_last_error("encode: %s", ae_tape_error(t));
      goto fail;
    }
    if (!codes) {
      ae_shape cs = c->t.shape;
      cs.d[0] = n;
      width = c->t.numel / b;
      codes = ae_tensor_new(cs);
      if (!codes) {
        ae_set_last_error("encode: %s", ae_last_error());
        goto fail;
      }
    }
    memcpy(codes->data + lo * width, c->t.data, sizeof(ae_real) * (size_t)(b * width));
  }
  ae_tape_free(t);
  return codes;
fail:
  ae_tape_free(t);
  ae_tensor_free(codes);
  return NULL;
}

int cmd_encode(int argc, char **argv) {
  const char *out = NULL, *plot = NULL, *data = NULL, *split_s = "test";
  int64_t limit = 0, batch = 256, threads = 0;
  cli_opt opts[] = {
      {"--out", CLI_STR, "FILE.npy", "where to write the codes (required)", &out, 0, 0, 0},
      {"--data", CLI_STR, "SPEC", "data set (default: the checkpoint's test data)", &data, 0, 0, 0},
      {"--split", CLI_STR, "test|train", "which split of the data (default test)", &split_s, 0, 0, 0},
      {"--limit", CLI_INT, "N", "only the first N examples (default: all)", &limit, 1, 9.2e18, 0},
      {"--plot", CLI_STR, "FILE.png", "also draw 2-unit codes as a scatter plot coloured by label", &plot, 0, 0, 0},
      {"--batch-size", CLI_INT, "N", "examples per forward pass (default 256)", &batch, 1, 1 << 20, 0},
      {"--threads", CLI_INT, "N", "threads (default: OpenMP's, all cores)", &threads, 1, 1024, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"encode", "CKPT", about, 1, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  if (!out) {
    cli_error("encode: missing --out FILE.npy; usage: aezoo encode CKPT --out FILE.npy [options]");
    return CLI_USAGE;
  }
  int split = cli_parse_split("encode", split_s);
  if (split < 0) return CLI_USAGE;
  if (threads) ae_set_threads((int)threads);

  ae_ckpt_meta meta;
  ae_model *m = cli_open_checkpoint(pos[0], &meta);
  if (!m) return CLI_FAIL;
  ae_dataset d = {0};
  ae_tensor *codes = NULL;
  const char *spec;
  rc = CLI_FAIL;
  if (cli_open_data(&meta, m, data, split, limit, &d, &spec)) goto done;
  codes = encode_all(m, d.x, batch);
  if (!codes) {
    cli_error("%s", ae_last_error());
    goto done;
  }
  if (ae_npy_write(out, codes)) {
    cli_error("encode: %s", ae_last_error());
    goto done;
  }
  char shape[96];
  printf("codes %s of %s (%s split): %s\n", ae_shape_str(codes->shape, shape, sizeof shape), spec,
         split == CLI_SPLIT_TEST ? "test" : "train", out);
  if (plot) { /* after the .npy: a plot that fails loses no codes */
    char title[256];
    snprintf(title, sizeof title, "codes of %s on %s", meta.model, spec);
    ae_plot *p = ae_code_plot(codes, d.labels, d.name, title, PLOT_SIDE, NULL);
    if (!p || ae_plot_save(p, plot)) {
      cli_error("encode --plot: %s", ae_last_error());
      ae_plot_free(p);
      goto done;
    }
    ae_plot_free(p);
    printf("codes plot%s%s: %s\n", codes->numel / codes->shape.d[0] > 2 ? " (PCA of the codes)" : "",
           d.labels ? " (coloured by label)" : "", plot);
  }
  rc = CLI_OK;
done:
  ae_tensor_free(codes);
  ae_dataset_free(&d);
  ae_model_free(m);
  return rc;
}
