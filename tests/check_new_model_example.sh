#!/usr/bin/env bash
# check_new_model_example.sh README MODEL_SOURCE BINARY
# The README's "adding a model" code is examples/tied_ae.c verbatim, and the
# example trains: its loss after 200 steps is under half its first loss.
set -euo pipefail
readme=$1 src=$2 bin=$3
block=$(awk '/^```c tied_ae/{on=1; next} on && /^```/{exit} on' "$readme")
if [ "$block" != "$(cat "$src")" ]; then
  echo "README's model example differs from $src:"
  diff <(printf '%s\n' "$block") "$src" || true
  exit 1
fi
out=$("$bin")
echo "$out"
echo "$out" | awk '$1 == "step" { loss[n++] = $4 } END { if (n != 2 || !(loss[1] < 0.5 * loss[0])) exit 1 }'
