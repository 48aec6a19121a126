#!/usr/bin/env bash
# reference_results.sh: the README's reference-results table. Trains every
# model of `aezoo list --names` in its reference configuration (its default
# settings) on the full Fashion-MNIST training set (60000 images) for the
# epochs chosen below, evaluates it with `aezoo eval` on the full test set
# (10000 images), and prints a markdown table: epochs, steps, batch size,
# wall time (and CPU time) of training, test loss and its terms, per-pixel
# test MSE, vae's negative ELBO; beside ae and linear-ae the per-pixel test
# MSE of PCA at the same code size (benchmarks/pca_baseline). The table is
# also written to benchmarks/reference_results.md (with --smoke: to the runs
# directory only).
#
# Usage: benchmarks/reference_results.sh [--build DIR] [--runs DIR] [--smoke]
#   --build DIR  meson build directory (default build; set up and built if needed)
#   --runs DIR   where the run directories go (default /tmp/aezoo_reference_runs)
#   --smoke      5 steps per model and 500 test images: checks the script, not the models
# Environment: THREADS (2), BATCH (128), SEED (1),
#   OMP_WAIT_POLICY (passive unless set: on a loaded machine spinning
#   OpenMP threads made 2-thread steps 2-10x slower in our measurements).
#
# Epochs: chosen so the whole script takes about 20 minutes on the 2-core
# development machine (with other work running). Costs measured there at
# batch 128, 2 threads: the small MLPs 1-5 ms/step (469 steps/epoch), vae
# ~17 ms, deep-ae ~50, conv-ae ~45, cae ~80, psd ~110, cae-h ~125,
# deconv-ae/conv-dae ~120-230, seq-ae ~210, cae-deep (exact Jacobian) ~240.
set -u
cd "$(dirname "$0")/.."

BUILD=build
RUNS=/tmp/aezoo_reference_runs
SMOKE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "reference_results.sh: unknown option '$1' (valid: --build DIR, --runs DIR, --smoke)" >&2; exit 2 ;;
  esac
done
THREADS=${THREADS:-2}
BATCH=${BATCH:-128}
SEED=${SEED:-1}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

[ -d "$BUILD" ] || meson setup "$BUILD" >/dev/null || exit 1
ninja -C "$BUILD" cli/aezoo benchmarks/pca_baseline >/dev/null || exit 1
AEZOO=$BUILD/cli/aezoo
mkdir -p "$RUNS"

# Epochs per model (per stage for stacked-ae, which has one pretraining stage
# per layer plus fine-tuning). A model missing here gets 1 epoch, marked.
epochs_for() {
  case "$1" in
    ae|linear-ae|dae|sparse-l1|sparse-kl|vae) echo 10 ;;
    stacked-ae) echo 5 ;;
    deep-ae|conv-ae) echo 3 ;;
    cae) echo 2 ;;
    cae-deep|cae-h|conv-dae|deconv-ae|psd|seq-ae) echo 1 ;;
    *) echo 1 ;;
  esac
}

now() { date +%s.%N; }
TIMEFORMAT='%R %U %S' # bash's `time`: wall, user, sys seconds
fmt_time() { awk -v s="$1" 'BEGIN{ if (s >= 60) printf "%dm%02ds", int(s/60), int(s - 60*int(s/60) + 0.5); else printf "%.1fs", s }'; }

start_all=$(now)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
models=$("$AEZOO" list --names) || { echo "reference_results.sh: '$AEZOO list --names' failed" >&2; exit 1; }

for m in $models; do
  e=$(epochs_for "$m")
  dir=$RUNS/$m
  budget=(--epochs "$e"); evlimit=()
  [ "$SMOKE" = 1 ] && budget=(--steps 5) && evlimit=(--limit 500)
  echo "== $m: ${budget[*]} --batch-size $BATCH" >&2
  { time "$AEZOO" train "$m" "${budget[@]}" --batch-size "$BATCH" --seed "$SEED" --threads "$THREADS" \
      --out "$dir" --force --quiet >"$RUNS/$m.train.log" 2>&1; } 2>"$RUNS/$m.train.time"
  rc=$?
  read -r train_s tu ts <"$RUNS/$m.train.time"
  train_cpu=$(awk -v a="$tu" -v b="$ts" 'BEGIN{print a+b}')
  steps=$(tail -1 "$dir/train.csv" 2>/dev/null | cut -d, -f1)
  note=""
  bud="$e"; [ "$SMOKE" = 1 ] && bud="5 steps"
  if [ $rc -ne 0 ]; then
    note="train FAILED (exit $rc): $(tail -1 "$RUNS/$m.train.log" | tr '|' '/')"
    rows+=("| $m | $bud | $BATCH | ${steps:-?} | $(fmt_time "$train_s") | $(fmt_time "$train_cpu") | - | - | - | - | - | $note |")
    echo "   $note" >&2
    continue
  fi
  t2=$(now)
  "$AEZOO" eval "$dir" --threads "$THREADS" "${evlimit[@]}" >"$RUNS/$m.eval.txt" 2>&1
  rc=$?
  eval_s=$(awk -v a="$t2" -v b="$(now)" 'BEGIN{print b-a}')
  if [ $rc -ne 0 ]; then
    note="eval FAILED (exit $rc): $(tail -1 "$RUNS/$m.eval.txt" | tr '|' '/')"
  fi
  loss=$(awk '$1=="loss"{print $2}' "$RUNS/$m.eval.txt")
  terms=$(awk '/^  [a-z0-9_]+ /{printf "%s%s %s", sep, $1, $2; sep=", "}' "$RUNS/$m.eval.txt")
  mse=$(awk '$1=="mse_pixel"{print $2}' "$RUNS/$m.eval.txt")
  elbo=$(awk '$1=="neg_elbo"{print $2}' "$RUNS/$m.eval.txt")
  case "$mse$loss" in *nan*|*inf*) note="${note:+$note; }non-finite result" ;; esac
  [ "$m" = stacked-ae ] && note="${note:+$note; }$e epochs per stage (2 pretraining + fine-tuning)"
  pca=""
  case "$m" in ae|linear-ae) pca=PCA30 ;; esac
  rows+=("| $m | $bud | $BATCH | $steps | $(fmt_time "$train_s") | $(fmt_time "$train_cpu") | ${loss:--}${terms:+ ($terms)} | ${mse:--} | ${elbo:--} | $pca | $(fmt_time "$eval_s") | $note |")
  echo "   train $(fmt_time "$train_s"), loss ${loss:-?}, mse_pixel ${mse:-?}${elbo:+, neg_elbo $elbo}${note:+ [$note]}" >&2
done

# PCA at the code size of ae (hidden=...,30) and linear-ae (code=30).
echo "== pca_baseline 30" >&2
t0=$(now)
"$BUILD/benchmarks/pca_baseline" 30 >"$RUNS/pca.txt" 2>&1
prc=$?
pca_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{print b-a}')
pca_mse=$(sed -n 's/^pca k=30 test_mse_pixel=\([^ ]*\) .*/\1/p' "$RUNS/pca.txt")
pca_checks=$(sed -n 's/.* checks=\(.*\)$/\1/p' "$RUNS/pca.txt")
[ $prc -ne 0 ] && pca_mse="FAILED (exit $prc): $(tail -1 "$RUNS/pca.txt")"
total_s=$(awk -v a="$start_all" -v b="$(now)" 'BEGIN{print b-a}')

out=$RUNS/reference_results.md
[ "$SMOKE" = 0 ] && out=benchmarks/reference_results.md
{
  echo "Reference results: each model in its reference configuration (\`aezoo list\` defaults), trained on the"
  echo "full Fashion-MNIST training set (60000 images) with adam (lr 0.001), batch $BATCH, seed $SEED, $THREADS threads,"
  echo "then \`aezoo eval\` on the full test set (10000 images$([ "$SMOKE" = 1 ] && echo "; SMOKE RUN: 5 steps, 500 test images"))."
  echo "Produced by \`benchmarks/reference_results.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'),"
  echo "$(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), OMP_WAIT_POLICY=$OMP_WAIT_POLICY;"
  echo "a shared machine: load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end, so times are indicative."
  echo "Train time is the whole \`aezoo train\` command (data loading, test loss on 2000 images at each epoch end,"
  echo "checkpoints, pictures); CPU is its user+sys time over all threads. Test loss is the model's own training loss on the"
  echo "test set with its terms, on the model's own scale (mean over examples; mse: per pixel; bce, vae, psd: summed"
  echo "over pixels); noise inside a loss (denoisers, vae's z, Hutchinson probes) is drawn from the run's seed."
  echo "mse_pixel is the per-pixel MSE of the deterministic reconstruction (denoisers reconstruct the clean input)."
  echo
  echo "| model | epochs | batch | steps | train wall | train CPU | test loss (terms) | test MSE/pixel | neg. ELBO (nats) | PCA MSE/pixel, same code size | eval wall | notes |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for r in "${rows[@]}"; do echo "${r//PCA30/k=30: ${pca_mse:-?}}"; done
  echo
  echo "PCA (benchmarks/pca_baseline 30, float64, centred, top-30 eigenvectors of the training covariance): test MSE/pixel"
  echo "${pca_mse:-?}, $(fmt_time "$pca_s"); self-checks (Jacobi residuals, eigenpair residuals, orthonormality, train MSE vs"
  echo "trace identity): ${pca_checks:-?}. Whole script: $(fmt_time "$total_s")."
} >"$out"
cat "$out"
