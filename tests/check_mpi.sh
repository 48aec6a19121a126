#!/usr/bin/env bash
# check_mpi.sh AEZOO: data-parallel training under mpirun (suite mpi, built
# only with MPI). Every zoo model at a small size, 100 steps of a global
# batch of 16 (15 for vae: an uneven split, 7 + 8 rows, whose noise starts
# at an odd position), trained with `mpirun -np 2` and in one process:
# the losses of every step and the test losses agree within float32
# rounding (1e-5 relative; psd 1e-3: its inner MFISTA amplifies rounding).
# That includes the noise of dae, conv-dae, vae and cae-h's probes (drawn
# per global example) and sparse-kl's batch-mean activation (summed over
# the ranks). Two -np 2 runs are bitwise equal
# (parameters and optimiser state), and a -np 2 run stopped by SIGTERM and
# resumed under mpirun ends bitwise equal to an uninterrupted one. Bad
# situations end every rank with a message, never a hang: ranks started
# with different arguments or data, more ranks than examples in a batch,
# a rank killed.
set -euo pipefail
aezoo=$(realpath "$1")
command -v mpirun >/dev/null || { echo "mpirun not found: skipped"; exit 77; }
fashion=${AEZOO_DATA:-/usr/share/datasets/fashion-mnist}
[ -e "$fashion/train-images-idx3-ubyte.gz" ] || { echo "no Fashion-MNIST in $fashion: skipped"; exit 77; }
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
# mpirun (every rank on any core), then the number of ranks
mpirun=(mpirun --oversubscribe --bind-to none -np)
mpi() { # mpi N ARGS...: aezoo ARGS on N ranks
  local n=$1
  shift
  "${mpirun[@]}" "$n" "$aezoo" "$@" </dev/null
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# 1024 training and 1024 test images as small IDX files
small() { { printf '\x00\x00\x08\x03\x00\x00\x04\x00\x00\x00\x00\x1c\x00\x00\x00\x1c'
  { zcat "$1" || true; } | head -c $((16 + 1024 * 784)) | tail -c +17; } >"$2"; }
small "$fashion/train-images-idx3-ubyte.gz" train.idx
small "$fashion/t10k-images-idx3-ubyte.gz" test.idx
data=(--data train.idx --test-data test.idx --test-limit 64 --quiet --no-pictures)

# the largest relative difference of the columns loss and test_loss (by
# their header names) between two train.csv files, row by row
maxrel() {
  paste -d, "$1" "$2" | awk -F, '
    NR == 1 { h = NF / 2; for (i = 1; i <= h; i++) if ($i == "loss" || $i == "test_loss") c[i] = 1; next }
    { for (i in c) { a = $i; b = $(i + h); if (a == "" && b == "") continue
        if (a == "" || b == "") { print "inf"; exit }
        d = a - b; d = d < 0 ? -d : d; s = b < 0 ? -b : b; r = d / (s > 1e-30 ? s : 1e-30); if (r > m) m = r } }
    END { printf "%.3g\n", m + 0 }'
}
# the tensor bytes of a safetensors file (its header holds the wall time)
tensors() { tail -c +$((9 + $(od -An -t u8 -N8 "$1" | tr -d ' '))) "$1"; }
# train.csv without its wall_time column
losses() { awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_time") w = i } { $w = ""; print }' "$1"; }
same_run() { # DIR1 DIR2: bitwise equal parameters, optimiser state and losses
  cmp -s <(tensors "$1/model.safetensors") <(tensors "$2/model.safetensors") &&
    cmp -s <(tensors "$1/optimizer.safetensors") <(tensors "$2/optimizer.safetensors") &&
    cmp -s <(losses "$1/train.csv") <(losses "$2/train.csv")
}
fail() { echo "FAIL: $*"; exit 1; }

# ---- -np 2 against one process, every zoo model ----
worst=""
while read -r model tol batch sets; do
  set_args=()
  for s in $sets; do set_args+=(--set "$s"); done
  args=(train "$model" "${data[@]}" --batch-size "$batch" --steps 100 "${set_args[@]}")
  "$aezoo" "${args[@]}" --out one >/dev/null || fail "$model: one process failed"
  mpi 2 "${args[@]}" --out two >/dev/null || fail "$model: mpirun -np 2 failed"
  [ "$(wc -l <two/train.csv)" -eq "$(wc -l <one/train.csv)" ] || fail "$model: train.csv lengths differ"
  rel=$(maxrel two/train.csv one/train.csv)
  awk -v r="$rel" -v t="$tol" 'BEGIN { exit !(r <= t) }' ||
    fail "$model: -np 2 and one process differ by $rel relative (tolerance $tol)"
  worst+="$model $rel; "
  rm -rf one two
done <<'EOF'
ae 1e-5 16 hidden=16,4
linear-ae 1e-5 16 code=4
deep-ae 1e-5 16 hidden=16,8,4
stacked-ae 1e-5 16 hidden=16,4
dae 1e-5 16 hidden=16,4
sparse-l1 1e-5 16 hidden=16
sparse-kl 1e-5 16 hidden=16
cae 1e-5 16 hidden=16
cae-deep 1e-5 16 hidden=16,4
cae-h 1e-5 16 hidden=8 corruptions=2 probes=2
conv-ae 1e-5 16 channels=2,3 code=3
conv-dae 1e-5 16 channels=2,3
deconv-ae 1e-5 16 channels=2,3
vae 1e-5 15 hidden=16 code=3
psd 1e-3 16 code=8 steps=5
seq-ae 1e-5 16 hidden=3 code=2
EOF
echo "-np 2 vs one process, largest relative difference of the losses: $worst"

# ---- two -np 2 runs are bitwise equal ----
args=(train dae "${data[@]}" --batch-size 16 --steps 100 --set hidden=16,4)
mpi 2 "${args[@]}" --out a >/dev/null
mpi 2 "${args[@]}" --out b >/dev/null
same_run a b || fail "two mpirun -np 2 runs differ"
echo "two -np 2 runs: bitwise equal"

# ---- SIGTERM, then --resume under mpirun: bitwise equal to an uninterrupted run ----
# mpirun passes a SIGTERM on to the ranks odls_base_sigkill_timeout seconds
# later and SIGKILLs them as long again after that: 2 s here. The run
# lasts several seconds (12000 steps) so that the SIGTERM meets it running
args=(train dae "${data[@]}" --batch-size 16 --steps 12000 --set hidden=16,4)
mpi 2 "${args[@]}" --out full >/dev/null
"${mpirun[@]}" 2 --mca odls_base_sigkill_timeout 2 "$aezoo" "${args[@]}" --out cut >/dev/null 2>cut.err </dev/null &
pid=$!
# once training is under way (the first epoch's checkpoint is there: a
# signal while mpirun is still starting the ranks is not passed on)
for _ in $(seq 1 600); do [ -e cut/model.safetensors ] && break; sleep 0.05; done
kill -TERM $pid
set +e
wait $pid
rc=$?
set -e
for _ in $(seq 1 600); do pgrep -f -- "--out cut" >/dev/null || break; sleep 0.05; done
steps=$(($(wc -l <cut/train.csv) - 1))
[ "$steps" -gt 0 ] && [ "$steps" -lt 12000 ] || fail "SIGTERM: $steps steps in train.csv (exit $rc): $(cat cut.err)"
mpi 2 train --resume cut --quiet --no-pictures >/dev/null || fail "resume under mpirun failed"
same_run full cut || fail "the run stopped by SIGTERM at step $steps and resumed differs from the uninterrupted one"
echo "SIGTERM at step $steps (mpirun exit $rc), resumed: bitwise equal to the uninterrupted run"

# ---- errors: a message on every rank, a non-zero exit, no hang ----
expect_error() { # WHAT PATTERN CMD...: CMD ends non-zero within 60 s and its stderr matches PATTERN
  local what=$1 pat=$2
  shift 2
  set +e
  timeout 60 "$@" >/dev/null 2>err.txt </dev/null
  local rc=$?
  set -e
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "$what: exit $rc ($(head -c 2000 err.txt))"
  grep -qi -- "$pat" err.txt || fail "$what: no message matching '$pat' ($(head -c 2000 err.txt))"
  echo "$what: exit $rc, $(grep -i -m1 -- "$pat" err.txt)"
}
base=(ae "${data[@]}" --batch-size 16 --steps 50 --set hidden=16,4)
# rank 1 with another seed, then with other data: sh -c gives each rank its own arguments
expect_error "different seeds" "rank 1.s configuration" "${mpirun[@]}" 2 sh -c \
  'exec "$0" train "$@" --seed $((1 + OMPI_COMM_WORLD_RANK)) --out seeds' "$aezoo" "${base[@]}"
# the same arguments on different data: one pixel of rank 1's copy differs
mkdir r0 r1
cp train.idx r0/train.idx
cp train.idx r1/train.idx
printf '\x7f' | dd of=r1/train.idx bs=1 seek=5000 conv=notrunc status=none
expect_error "different data" "rank 1.s data" "${mpirun[@]}" 2 sh -c \
  'cd r$OMPI_COMM_WORLD_RANK && exec "$0" train "$@" --out ../datadiff' "$aezoo" ae --data train.idx \
  --test-data ../test.idx --test-limit 64 --quiet --no-pictures --batch-size 16 --steps 50 --set hidden=16,4
expect_error "3 ranks, batch 2" "batch" "${mpirun[@]}" 3 "$aezoo" train ae "${data[@]}" --batch-size 2 --steps 5 --out toomany
# a rank killed: the others stop within the timeout
args=(train dae "${data[@]}" --batch-size 16 --steps 1000000 --set hidden=16,4 --out killed)
timeout 120 "${mpirun[@]}" 2 "$aezoo" "${args[@]}" >/dev/null 2>killed.err </dev/null &
pid=$!
victim=""
for _ in $(seq 1 100); do
  for p in $(pgrep -f -- "--out killed" || true); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -x 'OMPI_COMM_WORLD_RANK=1' >/dev/null &&
      [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$aezoo" ]; then victim=$p; fi
  done
  [ -n "$victim" ] && break
  sleep 0.05
done
[ -n "$victim" ] || fail "rank 1 of the run to kill was not found"
sleep 0.5
t0=$(date +%s)
kill -9 "$victim"
set +e
wait $pid
rc=$?
set -e
took=$(($(date +%s) - t0))
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$took" -le 30 ] || fail "rank 1 killed: exit $rc after $took s"
echo "rank 1 killed: mpirun ended with exit $rc after $took s"
echo "mpi: all checks passed"
