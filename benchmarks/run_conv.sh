#!/bin/sh
# run_conv.sh: conv2d GFLOP/s of aezoo (bench_conv) beside PyTorch
# (bench_conv_torch.py) on the same shapes in the same run, with ratios.
# Usage: benchmarks/run_conv.sh [build-dir] [threads]   (defaults: build, 2)
# BENCH_CPUTIME=1 times process CPU instead of wall time: steadier on a
# loaded machine, meaningful with 1 thread. The peer runs at its best on
# the machine (peer_env.sh; AEZOO_PEER_BLAS_CORE / AEZOO_PEER_TORCH_ISA).
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
threads=${2:-2}
ae=$(mktemp)
pt=$(mktemp)
trap 'rm -f "$ae" "$pt"' EXIT
. "$here/peer_env.sh"
peer_env_apply "${AEZOO_PEER_BLAS_CORE:-auto}" "${AEZOO_PEER_TORCH_ISA:-auto}"
"$build/benchmarks/bench_conv" "$threads" >"$ae"
/usr/bin/python3 "$here/bench_conv_torch.py" "$threads" >"$pt"
echo "conv2d, batch 128, 3x3, pad 1, float32, $threads threads: GFLOP/s (backward = input grad + weight grad)"
peer_env_describe /usr/bin/python3
echo
echo "| shape | aezoo fwd | torch fwd | ratio | aezoo bwd | torch bwd | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
paste "$ae" "$pt" | awk -F'\t' '{ printf "| %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |\n", $1, $2, $5, $2 / $5, $3, $6, $3 / $6 }'
