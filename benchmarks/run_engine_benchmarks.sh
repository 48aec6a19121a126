#!/bin/sh
# run_engine_benchmarks.sh: aezoo against PyTorch on one training step of two
# autoencoders (bench_train_step.c / bench_train_step_torch.py, same models,
# batch, optimiser and step counts), plus the per-op overhead table
# (bench_overhead) and, if built, the GEMM table (bench_gemm). Prints
# markdown. The machine is shared and noisy, so the two sides run in the
# same invocation, alternating when ROUNDS > 1, and the comparison is a
# ratio (torch ms / aezoo ms: above 1 means aezoo is faster); the best
# median of the rounds is kept for each side. CPU ms/step (process CPU
# time, all threads) is printed beside it: at THREADS=1 it is nearly
# immune to other load, so it is the steadier comparison on a busy box.
#
# Usage: benchmarks/run_engine_benchmarks.sh [build_dir]   (default build-bench)
# Environment: THREADS (2), STEPS_784 (200), STEPS_TINY (2000), ROUNDS (1),
#              PYTHON (/usr/bin/python3, Debian's, which has torch),
#              AEZOO_PEER_BLAS_CORE / AEZOO_PEER_TORCH_ISA (auto: the peer,
#              and the OpenBLAS column of bench_gemm, at their best on the
#              machine; see peer_env.sh).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
THREADS=${THREADS:-2}
STEPS_784=${STEPS_784:-200}
STEPS_TINY=${STEPS_TINY:-2000}
ROUNDS=${ROUNDS:-1}
PYTHON=${PYTHON:-/usr/bin/python3}
. benchmarks/peer_env.sh
peer_env_apply "${AEZOO_PEER_BLAS_CORE:-auto}" "${AEZOO_PEER_TORCH_ISA:-auto}"

[ -d "$BUILD" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" benchmarks/bench_train_step benchmarks/bench_overhead >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
r=1
while [ "$r" -le "$ROUNDS" ]; do
  "$BUILD/benchmarks/bench_train_step" "$THREADS" "$STEPS_784" "$STEPS_TINY" >>"$tmp/aezoo"
  if ! "$PYTHON" benchmarks/bench_train_step_torch.py "$THREADS" "$STEPS_784" "$STEPS_TINY" >>"$tmp/torch" 2>"$tmp/torch.err"; then
    echo "(PyTorch run failed: $(tail -n 1 "$tmp/torch.err"))" >&2
  fi
  r=$((r + 1))
done

echo "## Training step, $THREADS threads (median ms/step; best of $ROUNDS round(s))"
echo
peer_env_describe "$PYTHON"
echo
echo "| model | aezoo ms/step | PyTorch ms/step | torch/aezoo | aezoo CPU ms/step | PyTorch CPU ms/step | CPU torch/aezoo | aezoo loss first -> last | PyTorch loss first -> last | steps |"
echo "|---|---:|---:|---:|---:|---:|---:|---|---|---:|"
awk -F '\t' '
  FNR == 1 { side++ }
  {
    key = side SUBSEP $1
    if (!(key in ms) || $2 < ms[key]) { ms[key] = $2; loss[key] = sprintf("%.4g -> %.4g", $4, $5); steps[$1] = $6 }
    if (!(key in cpu) || $7 < cpu[key]) cpu[key] = $7
    if (side == 1 && !($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
  }
  END {
    for (i = 1; i <= n; i++) {
      m = order[i]; a = ms[1 SUBSEP m]; ac = cpu[1 SUBSEP m]; has = (2 SUBSEP m) in ms
      t = has ? ms[2 SUBSEP m] : 0; tc = has ? cpu[2 SUBSEP m] : 0
      printf "| %s | %.4f | %s | %s | %.4f | %s | %s | %s | %s | %d |\n", m, a,
             has ? sprintf("%.4f", t) : "n/a", has ? sprintf("%.1fx", t / a) : "n/a", ac,
             has ? sprintf("%.4f", tc) : "n/a", has ? sprintf("%.1fx", tc / ac) : "n/a",
             loss[1 SUBSEP m], has ? loss[2 SUBSEP m] : "n/a", steps[m]
    }
  }' "$tmp/aezoo" "$tmp/torch"
echo
echo "ae784: 784-256-64-256-784 ReLU/sigmoid, batch 128; tiny: 2-8-2-8-2 tanh, batch 64; MSE, Adam lr 1e-3."
echo "ms/step: wall-clock median. CPU ms/step: process CPU time per step, all threads and their spin"
echo "waits included; with THREADS=1 it is the figure a loaded machine distorts least."
echo
echo "## Per-op overhead on tiny tensors (1 thread)"
echo
"$BUILD/benchmarks/bench_overhead" 1
if [ -x "$BUILD/benchmarks/bench_gemm" ]; then
  echo
  echo "## GEMM ($THREADS threads)"
  echo
  "$BUILD/benchmarks/bench_gemm" "$THREADS"
fi
