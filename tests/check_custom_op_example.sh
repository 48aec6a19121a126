#!/usr/bin/env bash
# check_custom_op_example.sh README EXAMPLE_SOURCE BINARY
# The README's custom-op code is examples/custom_op.c verbatim, and the
# example passes: its registered top-k mask equals the built-in one, and
# gradcheck and gradgradcheck pass (it exits 0 only then).
set -euo pipefail
readme=$1 src=$2 bin=$3
block=$(awk '/^```c custom_op/{on=1; next} on && /^```/{exit} on' "$readme")
if [ "$block" != "$(cat "$src")" ]; then
  echo "README's custom-op example differs from $src:"
  diff <(printf '%s\n' "$block") "$src" || true
  exit 1
fi
out=$("$bin")
echo "$out"
grep -q '^my_topk_mask (op [0-9]*): |mine - built-in| = 0$' <<<"$out"
grep -q '^gradcheck: pass: ' <<<"$out"
grep -q '^gradgradcheck: pass: ' <<<"$out"
