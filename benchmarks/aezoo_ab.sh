#!/usr/bin/env bash
# aezoo_ab.sh: two aezoo builds side by side on every zoo model, through
# `aezoo train` (the CLI's training path) on Fashion-MNIST, at one thread
# count (or A at one count and B at another): for A/B runs of a change
# (PyTorch plays no part; zoo_vs_torch.sh is the peer comparison). Each
# run trains W + N + 1 steps with --stop-after W + N; ms/step is
# train.csv's wall_time at step W + N minus at step W, over N (start-up,
# data loading and the final evaluation are left out, as in
# zoo_vs_torch.sh). The two builds alternate, model by model, for R
# rounds, and the best round of each counts. Prints a markdown
# table: ms/step of A and B and A / B (above 1: B is faster).
# Usage: benchmarks/aezoo_ab.sh A B [--rounds R] [--threads T] [--threads-b T] [--models a,b]
#   A, B     aezoo executables (e.g. an old commit's build/cli/aezoo)
#   --rounds R    (default 2)   --threads T   (default 1)
#   --threads-b T B's thread count (default: --threads). With A and B the
#                 same executable, whether a second thread pays: A at 1, B at 2
#   --models a,b  (default: all, N as zoo_vs_torch.sh's default_steps)
#   --steps N     timed steps for every model (default: the N above; more
#                 steps average a small change out of this machine's noise;
#                 keep N + 5 under an epoch, 468 steps at batch 128, or the
#                 window takes in the epoch's test loss and checkpoint)
# OMP_WAIT_POLICY defaults to passive, as in the CLI.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,22p' "$0"; exit 2; }
A=$1 B=$2
shift 2
rounds=2 threads=1 threads_b="" models="" steps_all=""
while [ $# -gt 0 ]; do
  case $1 in
  --rounds) rounds=$2; shift 2 ;;
  --threads) threads=$2; shift 2 ;;
  --threads-b) threads_b=$2; shift 2 ;;
  --steps) steps_all=$2; shift 2 ;;
  --models) models=$2; shift 2 ;;
  *) echo "aezoo_ab.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
threads_b=${threads_b:-$threads}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
W=5
# about a second of aezoo per model at 1 thread (zoo_vs_torch.sh's defaults)
declare -A steps=([ae]=400 [linear-ae]=400 [deep-ae]=40 [stacked-ae]=400 [dae]=250 [sparse-l1]=250
  [sparse-kl]=250 [cae]=20 [cae-deep]=10 [cae-h]=12 [conv-ae]=60 [conv-dae]=15 [deconv-ae]=15 [vae]=200
  [psd]=25 [seq-ae]=15)
[ -n "$models" ] || models=$("$A" list | awk '/^[a-z]/ {print $1}' | paste -sd, -)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ms/step of one run of executable $1 on model $2 over $3 steps at $4 threads
one() {
  local d="$tmp/run"
  rm -rf "$d"
  if ! OMP_NUM_THREADS=$4 "$1" train "$2" --steps $((W + $3 + 1)) --stop-after $((W + $3)) --batch-size 128 \
    --threads "$4" --out "$d" --quiet >"$tmp/log" 2>&1; then
    echo "aezoo_ab.sh: $1 train $2 failed:" >&2
    cat "$tmp/log" >&2
    exit 1
  fi
  awk -F, -v a=$W -v b=$((W + $3)) 'NR > 1 {w[$1] = $NF} END {printf "%.4f", (w[b] - w[a]) * 1000 / (b - a)}' "$d/train.csv"
}

echo "| model | steps | A ms/step | B ms/step | A / B |"
echo "|---|---:|---:|---:|---:|"
for m in ${models//,/ }; do
  n=${steps_all:-${steps[$m]:-50}}
  best_a="" best_b=""
  for ((r = 0; r < rounds; r++)); do
    a=$(one "$A" "$m" "$n" "$threads")
    b=$(one "$B" "$m" "$n" "$threads_b")
    best_a=$(awk -v x="$a" -v y="${best_a:-$a}" 'BEGIN {print (x < y ? x : y)}')
    best_b=$(awk -v x="$b" -v y="${best_b:-$b}" 'BEGIN {print (x < y ? x : y)}')
  done
  awk -v m="$m" -v n="$n" -v a="$best_a" -v b="$best_b" 'BEGIN {printf "| %s | %d | %.4f | %.4f | %.2f |\n", m, n, a, b, a / b}'
done
