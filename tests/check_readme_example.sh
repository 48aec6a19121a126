#!/usr/bin/env bash
# check_readme_example.sh README EXAMPLE_SOURCE EXAMPLE_BINARY
# The README's C example must be examples/readme_example.c verbatim, and it
# must run: its output line must show a finite loss and a nonzero gradient.
set -euo pipefail
readme=$1 src=$2 bin=$3
block=$(awk '/^```c readme_example/{on=1; next} on && /^```/{exit} on' "$readme")
if [ "$block" != "$(cat "$src")" ]; then
  echo "README's example differs from $src:"
  diff <(printf '%s\n' "$block") "$src" || true
  exit 1
fi
out=$("$bin")
echo "$out"
echo "$out" | awk '{ if ($1 != "loss" || $2 !~ /^[0-9.]+$/ || $2 + 0 <= 0 || $6 + 0 == 0) exit 1 }'
