/* cmd_plot.c: `aezoo plot RUN [--out FILE.png]`: a run's train.csv (see
 * train_csv.h) drawn as loss curves with io/plot: the training loss per
 * step, each loss term per step, and test_loss (and val_loss, when the
 * column exists) at epoch ends, with markers. The y-axis is logarithmic
 * when every value is positive and they span more than two decades. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "io/plot.h"

#define PLOT_MAX_COLS 64

static const char about[] =
    "Draws RUN's train.csv (RUN: a run directory written by `aezoo train`, or the\n"
    "CSV file itself) as loss curves in a PNG: the training loss and each loss term per\n"
    "step, and the test loss (and validation loss, when train.csv has val_loss) at the\n"
    "end of each epoch, against the step. The y-axis is logarithmic when the values\n"
    "span more than two decades. Writes RUN/loss.png unless --out says otherwise.";

typedef struct table {
  int ncols;
  char *name[PLOT_MAX_COLS];
  int64_t nrows, cap;
  double *v; /* nrows x ncols, NaN for empty cells */
} table;

static void table_free(table *t) {
  for (int i = 0; i < t->ncols; i++) free(t->name[i]);
  free(t->v);
}

static int column(const table *t, const char *name) {
  for (int i = 0; i < t->ncols; i++)
    if (strcmp(t->name[i], name) == 0) return i;
  return -1;
}

static void chomp(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = 0;
}

/* Reads a train.csv. 0, or -1 after an error naming the file and line. */
static int read_csv(const char *path, table *t) {
  memset(t, 0, sizeof *t);
  FILE *f = fopen(path, "r");
  if (!f) {
    cli_error("plot: cannot read %s: %s", path, strerror(errno));
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  int64_t lineno = 0;
  int rc = -1;
  if (getline(&line, &cap, f) < 0) {
    cli_error("plot: %s is empty (line 1: expected the header step,stage,epoch,loss,...)", path);
    goto out;
  }
  lineno = 1;
  chomp(line);
  for (char *save = NULL, *tok = strtok_r(line, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (t->ncols == PLOT_MAX_COLS) {
      cli_error("plot: %s line 1: more than %d columns", path, PLOT_MAX_COLS);
      goto out;
    }
    t->name[t->ncols++] = strdup(tok);
  }
  if (column(t, "step") < 0 || column(t, "loss") < 0) {
    cli_error("plot: %s line 1: the header has no 'step' or 'loss' column (is it a train.csv?)", path);
    goto out;
  }
  while (getline(&line, &cap, f) >= 0) {
    lineno++;
    chomp(line);
    if (!line[0]) continue;
    if (t->nrows == t->cap) {
      int64_t nc = t->cap ? 2 * t->cap : 256;
      double *v = realloc(t->v, sizeof(double) * (size_t)(nc * t->ncols));
      if (!v) {
        cli_error("plot: %s: out of memory at line %lld", path, (long long)lineno);
        goto out;
      }
      t->v = v, t->cap = nc;
    }
    double *row = t->v + t->nrows * t->ncols;
    int k = 0;
    char *p = line;
    for (;;) {
      char *end = strchr(p, ',');
      if (end) *end = 0;
      if (k == t->ncols) {
        cli_error("plot: %s line %lld: more fields than the header's %d", path, (long long)lineno, t->ncols);
        goto out;
      }
      if (!*p) {
        row[k] = NAN;
      } else {
        char *e;
        errno = 0;
        row[k] = strtod(p, &e);
        if (*e || e == p) {
          cli_error("plot: %s line %lld: column '%s': '%s' is not a number", path, (long long)lineno, t->name[k], p);
          goto out;
        }
      }
      k++;
      if (!end) break;
      p = end + 1;
    }
    if (k != t->ncols) {
      cli_error("plot: %s line %lld: %d fields, the header has %d", path, (long long)lineno, k, t->ncols);
      goto out;
    }
    t->nrows++;
  }
  if (t->nrows == 0) {
    cli_error("plot: %s has a header but no rows (line 2: expected the first step)", path);
    goto out;
  }
  rc = 0;
out:
  free(line);
  fclose(f);
  if (rc) table_free(t);
  return rc;
}

static int is_meta(const char *n) {
  return !strcmp(n, "step") || !strcmp(n, "stage") || !strcmp(n, "epoch") || !strcmp(n, "wall_time");
}
static int is_eval(const char *n) { return !strcmp(n, "test_loss") || !strcmp(n, "val_loss"); }

static const char *legend_name(const char *n) {
  if (!strcmp(n, "loss")) return "train loss";
  if (!strcmp(n, "test_loss")) return "test loss (epoch end)";
  if (!strcmp(n, "val_loss")) return "validation loss (epoch end)";
  return n;
}

/* Adds column c against the step, only its non-empty cells. */
static int add_curve(ae_plot *p, const table *t, int c, int color, int markers) {
  int sc = column(t, "step");
  double *x = malloc(sizeof(double) * (size_t)t->nrows), *y = malloc(sizeof(double) * (size_t)t->nrows);
  if (!x || !y) {
    free(x), free(y);
    return -1;
  }
  int64_t n = 0;
  for (int64_t r = 0; r < t->nrows; r++) {
    double v = t->v[r * t->ncols + c];
    if (isnan(v)) continue;
    x[n] = t->v[r * t->ncols + sc], y[n++] = v;
  }
  int rc = n ? ae_plot_line(p, legend_name(t->name[c]), color, n, x, y, markers) : 0;
  free(x), free(y);
  return rc;
}

static int draw(const table *t, const char *run, const char *out) {
  /* a log axis when every plotted value is positive and they span > 2 decades */
  double lo = INFINITY, hi = -INFINITY;
  int positive = 1;
  for (int c = 0; c < t->ncols; c++) {
    if (is_meta(t->name[c])) continue;
    for (int64_t r = 0; r < t->nrows; r++) {
      double v = t->v[r * t->ncols + c];
      if (!isfinite(v)) continue;
      if (v <= 0) positive = 0;
      lo = fmin(lo, v), hi = fmax(hi, v);
    }
  }
  int logy = positive && lo > 0 && hi / lo > 100;
  ae_plot *p = ae_plot_new(800, 500);
  if (!p) {
    cli_error("plot: %s", ae_last_error());
    return CLI_FAIL;
  }
  char title[512];
  snprintf(title, sizeof title, "loss curves of %.400s (%lld steps)", run, (long long)t->nrows);
  ae_plot_title(p, title);
  ae_plot_xlabel(p, "step");
  ae_plot_ylabel(p, logy ? "loss (log scale)" : "loss");
  if (logy) ae_plot_yscale(p, AE_PLOT_LOG);
  int color = 0, bad = 0;
  /* train loss first, then the terms, then the epoch-end evaluations on top */
  bad |= add_curve(p, t, column(t, "loss"), color++, 0);
  for (int c = 0; c < t->ncols; c++)
    if (!is_meta(t->name[c]) && !is_eval(t->name[c]) && strcmp(t->name[c], "loss")) bad |= add_curve(p, t, c, color++, 0);
  for (int c = 0; c < t->ncols; c++)
    if (is_eval(t->name[c])) bad |= add_curve(p, t, c, color++, 1);
  if (bad) {
    cli_error("plot: out of memory");
    ae_plot_free(p);
    return CLI_FAIL;
  }
  if (ae_plot_save(p, out)) {
    cli_error("plot: %s", ae_last_error());
    ae_plot_free(p);
    return CLI_FAIL;
  }
  ae_plot_free(p);
  printf("loss curves (%lld steps, %s y-axis): %s\n", (long long)t->nrows, logy ? "log" : "linear", out);
  return CLI_OK;
}

int cmd_plot(int argc, char **argv) {
  const char *out = NULL;
  cli_opt opts[] = {
      {"--out", CLI_STR, "FILE.png", "the picture to write (default RUN/loss.png)", &out, 0, 0, 0},
  };
  cli_cmd_help help = {"plot", "RUN", about, 1, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, 1, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  char csv[4096], png[4096];
  int dir = cli_is_dir(pos[0]);
  if (dir) {
    if (cli_path(csv, sizeof csv, pos[0], "train.csv")) return CLI_USAGE;
  } else {
    snprintf(csv, sizeof csv, "%s", pos[0]);
  }
  if (out) {
    snprintf(png, sizeof png, "%s", out);
  } else if (dir) {
    if (cli_path(png, sizeof png, pos[0], "loss.png")) return CLI_USAGE;
  } else {
    /* next to the CSV file */
    snprintf(png, sizeof png, "%s", csv);
    char *slash = strrchr(png, '/');
    snprintf(slash ? slash + 1 : png, sizeof png - (size_t)(slash ? slash + 1 - png : 0), "loss.png");
  }
  table t;
  if (read_csv(csv, &t)) return CLI_FAIL;
  rc = draw(&t, pos[0], png);
  table_free(&t);
  return rc;
}
