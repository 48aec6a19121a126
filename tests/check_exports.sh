#!/usr/bin/env bash
# check_exports.sh LIBAEZOO.so LIBAEZOO64.so AE64_NAMES.h
# The shared libraries export exactly the public API: every name declared
# AE_API in the headers (the list in the generated ae64_names.h), as ae_X
# from libaezoo and as ae64_X from libaezoo64, and nothing else: no
# backward rules (ae_bw_*), no private ae__* functions, no test hooks, no
# helper that a header does not mark AE_API.
set -euo pipefail
lib32=$1 lib64=$2 names_h=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Defined dynamic symbols, less the few the linker itself defines and, in
# a sanitizer build, AddressSanitizer's ODR indicators of exported
# variables (__odr_asan.NAME).
exports() {
  nm -D --defined-only "$1" | awk '{print $NF}' | sed 's/@.*//' |
    grep -vxE '_init|_fini|_edata|_end|__bss_start|__odr_asan[._].*' | sort -u
}
exports "$lib32" > "$tmp/32"
exports "$lib64" > "$tmp/64"
sed -n 's/^#define \(ae_[A-Za-z0-9_]*\) ae64_.*/\1/p' "$names_h" | sort -u > "$tmp/declared"

fail=0
bad() { echo "check_exports: $1"; sed 's/^/  /' "$2" | head -20; fail=1; }

grep -vE '^ae_' "$tmp/32" > "$tmp/x" && bad "$lib32 exports names outside ae_*:" "$tmp/x"
grep -E '^(ae__|ae_bw_)|test_hook' "$tmp/32" > "$tmp/x" && bad "$lib32 exports private names:" "$tmp/x"
grep -vE '^ae64_' "$tmp/64" > "$tmp/x" && bad "$lib64 exports names outside ae64_*:" "$tmp/x"
grep -E '^(ae64__|ae64_bw_)|test_hook' "$tmp/64" > "$tmp/x" && bad "$lib64 exports private names:" "$tmp/x"
# libaezoo exports exactly the AE_API declarations ...
comm -23 "$tmp/declared" "$tmp/32" > "$tmp/x"
[ -s "$tmp/x" ] && bad "declared AE_API but not exported by $lib32 (not defined, or its .c does not include its header):" "$tmp/x"
comm -13 "$tmp/declared" "$tmp/32" > "$tmp/x"
[ -s "$tmp/x" ] && bad "exported by $lib32 but not declared AE_API in a header:" "$tmp/x"
# ... and libaezoo64 the same names with the ae64_ prefix.
sed 's/^ae64_/ae_/' "$tmp/64" | sort -u > "$tmp/64as32"
diff "$tmp/32" "$tmp/64as32" > "$tmp/x" || bad "$lib32 and $lib64 export different APIs (< float32, > float64 as ae_):" "$tmp/x"

[ "$fail" -eq 0 ] || exit 1
echo "check_exports: $(wc -l < "$tmp/32") public names, ae_* in $(basename "$lib32"), ae64_* in $(basename "$lib64")"
