#!/usr/bin/env bash
# benchmarks/mpi_scaling.sh: data-parallel throughput of `aezoo train` under
# mpirun. For each model, STEPS steps of a global batch of BATCH images of
# Fashion-MNIST at the model's default size, in one process and under
# `mpirun -np N` for each N of RANKS, every rank on one thread
# (OMP_NUM_THREADS=1). Throughput is global samples/s over the steps after
# the first 10% (the wall clock of train.csv: no start-up, no evaluation),
# the best of ROUNDS interleaved rounds. Also the gradient bytes every step
# reduces (the parameters' float32 bytes) and the final training loss.
# The last two columns are where the model turns communication-bound on a
# 10 and a 100 Gbit/s network: the exchange (run/comm_mpi.c; the volume of a
# ring all-reduce) sends 2*S*(N-1)/N bytes per rank per step (S gradient
# bytes) while compute per rank is t1/N (t1: the 1-process step time
# measured here), so communication outlasts compute from
# N* = 1 + t1*bw/(2*S) ranks on (latency and overlap ignored).
# Usage: benchmarks/mpi_scaling.sh AEZOO [MODELS] [RANKS]
#   MODELS: comma-separated (default: every zoo model); RANKS: default "2".
#   Environment: STEPS (default 100), BATCH (default 64), ROUNDS (default 1).
set -euo pipefail
aezoo=$(realpath "${1:?usage: mpi_scaling.sh AEZOO [MODELS] [RANKS]}")
models=${2:-ae,linear-ae,deep-ae,stacked-ae,dae,sparse-l1,sparse-kl,cae,cae-deep,cae-h,conv-ae,conv-dae,deconv-ae,vae,psd,seq-ae}
ranks=${3:-2}
steps=${STEPS:-100}
batch=${BATCH:-64}
rounds=${ROUNDS:-1}
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# samples/s of a finished run: rows after the first 10% up to the last but one
# (the last row's wall time includes the test evaluation)
rate() { awk -F, -v b="$batch" -v s="$steps" '
  NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_time") w = i; next }
  { t[$1] = $w } END { a = int(s / 10); if (a < 1) a = 1; printf "%.0f", (s - 1 - a) * b / (t[s - 1] - t[a]) }' "$1"; }
lastloss() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "loss") l = i; next } { v = $l } END { print v }' "$1"; }
grad_bytes() { echo $(($(stat -L -c %s "$1") - 8 - $(od -An -t u8 -N8 "$1" | tr -d ' '))); }

printf '%-11s %12s %10s' model grad_bytes "1 proc/s"
for n in ${ranks//,/ }; do printf ' %10s %7s' "np $n/s" ratio; done
printf ' %8s %8s' "N*10G" "N*100G"
printf '   loss (1 proc'
for n in ${ranks//,/ }; do printf ', np %s' "$n"; done
printf ')\n'
for m in ${models//,/ }; do
  declare -A best=()
  declare -A loss=()
  for _ in $(seq 1 "$rounds"); do
    for n in 1 ${ranks//,/ }; do
      out=$tmp/$m-$n
      args=(train "$m" --batch-size "$batch" --steps "$steps" --quiet --no-pictures --out "$out" --force)
      if [ "$n" = 1 ]; then
        "$aezoo" "${args[@]}" >/dev/null
      else
        mpirun --oversubscribe --bind-to none -np "$n" "$aezoo" "${args[@]}" >/dev/null
      fi
      r=$(rate "$out/train.csv")
      if [ -z "${best[$n]:-}" ] || [ "$r" -gt "${best[$n]}" ]; then best[$n]=$r; fi
      loss[$n]=$(lastloss "$out/train.csv")
    done
  done
  printf '%-11s %12s %10s' "$m" "$(grad_bytes "$tmp/$m-1/model.safetensors")" "${best[1]}"
  for n in ${ranks//,/ }; do
    printf ' %10s %6.2fx' "${best[$n]}" "$(awk -v a="${best[$n]}" -v b="${best[1]}" 'BEGIN { print a / b }')"
  done
  S=$(grad_bytes "$tmp/$m-1/model.safetensors")
  awk -v S="$S" -v r="${best[1]}" -v b="$batch" 'BEGIN { t = b / r;
    printf " %8.0f %8.0f", 1 + t * 1.25e9 / (2 * S), 1 + t * 12.5e9 / (2 * S) }'
  printf '   %s' "${loss[1]}"
  for n in ${ranks//,/ }; do printf ', %s' "${loss[$n]}"; done
  printf '\n'
  unset best loss
  rm -rf "$tmp/$m"-*
done
