#!/usr/bin/env bash
# check_crash.sh AEZOO [TRIALS]
# Crash consistency: kill -9 a training run at random moments (during steps
# and during checkpoint writes: the run checkpoints every 4 steps), twice
# per trial (once in the first run, once while resuming), then resume until
# it finishes. Every trial must end resumable and bitwise equal to an
# uninterrupted run: the same losses at every step in train.csv, and the
# same final model (eval prints the same numbers). TRIALS defaults to 20
# ($AEZOO_CRASH_TRIALS overrides it; the README's claim used 100).
set -euo pipefail
aezoo=$(realpath "$1")
trials=${AEZOO_CRASH_TRIALS:-${2:-20}}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
base=(ae --data spiral --set hidden=8,2 --limit 64 --test-limit 64 --batch-size 16 --quiet --no-pictures)
args=("${base[@]}" --epochs 40)
"$aezoo" train "${args[@]}" --out ref >/dev/null
"$aezoo" eval ref | tail -n +2 >ref.eval
cut -d, -f1-5 ref/train.csv >ref.csv
t0=$(date +%s%N)
"$aezoo" train "${args[@]}" --out timing >/dev/null
span=$((($(date +%s%N) - t0) / 1000)) # microseconds of one whole run
killed=0
for i in $(seq 1 "$trials"); do
  d=t$i
  # first run, killed at a random moment
  "$aezoo" train "${args[@]}" --out $d >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v s="$span" -v r="$RANDOM" 'BEGIN { printf "%.6f", s * (r / 32768.0) / 1e6 }')"
  kill -9 $pid 2>/dev/null && killed=$((killed + 1))
  wait $pid 2>/dev/null || true
  # resume (or start again if no checkpoint was written yet), killed once more
  for attempt in 1 2 3 4 5 6; do
    if [ -e $d/model.safetensors ]; then cmd=(train --resume $d --quiet); else cmd=(train "${args[@]}" --out $d); fi
    if [ "$attempt" -eq 1 ]; then
      "$aezoo" "${cmd[@]}" >/dev/null 2>&1 &
      pid=$!
      sleep "$(awk -v s="$span" -v r="$RANDOM" 'BEGIN { printf "%.6f", s * (r / 32768.0) / 2e6 }')"
      kill -9 $pid 2>/dev/null && killed=$((killed + 1))
      wait $pid 2>/dev/null || true
      continue
    fi
    if "$aezoo" "${cmd[@]}" >out.txt 2>err.txt; then break; fi
    echo "trial $i: resume failed (attempt $attempt):"; cat err.txt; exit 1
  done
  cmp -s ref.csv <(cut -d, -f1-5 $d/train.csv) || { echo "trial $i: train.csv differs"; diff ref.csv <(cut -d, -f1-5 $d/train.csv) | head; exit 1; }
  cmp -s ref.eval <("$aezoo" eval $d | tail -n +2) || { echo "trial $i: the final model differs"; exit 1; }
  if ls $d | grep '\.tmp\.' >/dev/null; then echo "trial $i: temporary files left: $(ls $d)"; exit 1; fi
  [ "$(ls -d $d/gen-* | wc -l)" -eq 1 ] || { echo "trial $i: generations left: $(ls $d)"; exit 1; }
  rm -rf $d
done
# two runs into one directory: the second stops at once naming the first's pid
"$aezoo" train "${base[@]}" --epochs 1000000 --out busy >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s busy/.lock ] && break; sleep 0.05; done
set +e
"$aezoo" train "${args[@]}" --out busy --force >/dev/null 2>err.txt
rc=$?
set -e
kill -9 $pid; wait $pid 2>/dev/null || true
[ "$rc" -eq 1 ] && grep -q "in use by another run (process $pid)" err.txt || { echo "second run: exit $rc"; cat err.txt; exit 1; }
# the lock of a killed run is taken over
"$aezoo" train "${args[@]}" --out busy --force >/dev/null || { echo "the stale lock was not taken over"; exit 1; }
echo "$trials trials, $killed kills: every run resumed and ended bitwise equal to the uninterrupted one"
