#!/usr/bin/env bash
# check_install.sh BUILD_DIR SOURCE_DIR PREFIX LIBDIR B_SANITIZE
# The installed package works as the README says. Installs the build (no
# rebuild) into a temporary directory with `meson install --destdir`, then,
# with PKG_CONFIG_PATH naming only that prefix's pkgconfig directory (the
# one variable a user sets for a non-system prefix) and no LD_LIBRARY_PATH:
#   - both sonames are versioned, and static libraries are installed;
#   - <aezoo/aezoo.h> and <aezoo/autograd/tape.h> compile with
#     `pkg-config --cflags aezoo`, and the program runs (RUNPATH from Libs);
#   - every installed header compiles on its own, and marks each of its
#     declarations AE_API (exported) or AE_INTERNAL;
#   - the README example builds out of tree and runs;
#   - one program links libaezoo and libaezoo64 (examples/mixed_precision);
#   - a program links libaezoo statically (pkg-config --static);
#   - P/bin/aezoo list and P/bin/aezoo64 list run (their RUNPATH), and
#     P/bin/aezoo gradcheck runs P/bin/aezoo64.
#   - a plugin (examples/plugin/tied.c) built with the README's one line
#     trains, resumes bitwise, evaluates, reconstructs, encodes and
#     gradchecks (first and second order) through the installed aezoo.
# To check another out-of-tree build, add a step at the end with cc_pkg
# (compile and link against the install) and run_clean, e.g. a plugin:
#   cc_pkg aezoo -- -shared -fPIC "$src/examples/plugin/tied.c" -o "$tmp/tied.so"
#   run_clean "$P/bin/aezoo" ... "$tmp/tied.so" ...
set -euo pipefail
build=$1 src=$2 prefix=$3 libdir=$4 sanitize=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/dest" >/dev/null
P=$tmp/dest$prefix
case $libdir in /*) L=$tmp/dest$libdir ;; *) L=$P/$libdir ;; esac
export PKG_CONFIG_PATH=$L/pkgconfig
unset LD_LIBRARY_PATH LD_RUN_PATH LIBRARY_PATH CPATH C_INCLUDE_PATH

CC=${CC:-cc}
san=()
[ "$sanitize" != none ] && san=(-fsanitize="$sanitize")
# cc_pkg PKG... -- CC_ARGS...: compile and link against the installed packages.
cc_pkg() {
  local pkgs=()
  while [ "$1" != -- ]; do pkgs+=("$1"); shift; done
  shift
  # shellcheck disable=SC2046 # pkg-config prints a list of options
  "$CC" "${san[@]}" "$@" $(pkg-config --cflags --libs "${pkgs[@]}") -lm
}
# run_clean CMD...: run with no library path of any kind in the environment.
run_clean() { env -u LD_LIBRARY_PATH -u LD_PRELOAD "$@"; }
step() { echo "== $*"; }

step "installed libraries: versioned sonames, static archives"
for lib in aezoo aezoo64; do
  soname=$(readelf -d "$L/lib$lib.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
  [[ $soname =~ ^lib$lib\.so\.[0-9]+$ ]] || { echo "lib$lib.so: soname '$soname' is not versioned"; exit 1; }
  [ -f "$L/$soname" ] || { echo "$L/$soname is missing"; exit 1; }
  [ -f "$L/lib$lib.a" ] || { echo "$L/lib$lib.a is missing"; exit 1; }
  echo "lib$lib.so: $soname; lib$lib.a"
done

step "<aezoo/aezoo.h> and <aezoo/autograd/tape.h> with pkg-config --cflags --libs aezoo"
cat > "$tmp/prog.c" <<'C'
#include <stdio.h>
#include <aezoo/aezoo.h>
#include <aezoo/autograd/tape.h>
int main(void) { /* d/dx x^3 at x = 2 is 12 */
  ae_tape *t = ae_tape_new(0);
  ae_val *x = ae_var(t, AE_SHAPE(1), (ae_real[]){2});
  ae_val *y = ae_mul(t, x, ae_square(t, x));
  ae_val *g = ae_grad1(t, y, NULL, x, 0);
  double d = ae_item(g);
  printf("d/dx x^3 at 2 = %g\n", d);
  ae_tape_free(t);
  return d == 12 ? 0 : 1;
}
C
cc_pkg aezoo -- "$tmp/prog.c" -o "$tmp/prog"
run_clean "$tmp/prog"

step "every installed header compiles on its own (float32), all of them together (float64)"
inc=$P/include
all=()
for h in $(cd "$inc" && find aezoo -name '*.h' | sort); do
  all+=("#include <$h>")
  # shellcheck disable=SC2046
  echo "#include <$h>" | "$CC" -fsyntax-only -x c - $(pkg-config --cflags aezoo) ||
    { echo "installed header $h does not compile on its own"; exit 1; }
done
# shellcheck disable=SC2046
printf '%s\n' "${all[@]}" | "$CC" -fsyntax-only -x c - $(pkg-config --cflags aezoo64)
echo "${#all[@]} headers"

step "every ae_ declaration in an installed header is AE_API or AE_INTERNAL"
# shellcheck disable=SC2046
python3 "$src/base/ae64_names.py" --lint $(find "$inc/aezoo" -name '*.h' | sort)
echo ok

step "README example, out of tree"
cc_pkg aezoo -- "$src/examples/readme_example.c" -o "$tmp/readme_example"
run_clean "$tmp/readme_example"

step "one program, both libraries: float32 gradient vs float64 reference"
mp=$src/examples/mixed_precision
# shellcheck disable=SC2046
"$CC" "${san[@]}" -c "$mp/loss_grad.c" -I"$mp" $(pkg-config --cflags aezoo) -o "$tmp/loss_grad_f32.o"
# shellcheck disable=SC2046
"$CC" "${san[@]}" -c "$mp/loss_grad.c" -I"$mp" $(pkg-config --cflags aezoo64) -o "$tmp/loss_grad_f64.o"
cc_pkg aezoo aezoo64 -- "$mp/main.c" "$tmp/loss_grad_f32.o" "$tmp/loss_grad_f64.o" -o "$tmp/mixed_precision"
run_clean "$tmp/mixed_precision"

step "static link: pkg-config --static, -laezoo as -l:libaezoo.a"
# shellcheck disable=SC2046
"$CC" "${san[@]}" "$tmp/prog.c" $(pkg-config --cflags aezoo) \
  $(pkg-config --static --libs aezoo | sed 's/-laezoo\b/-l:libaezoo.a/') -lm -o "$tmp/prog_static"
if readelf -d "$tmp/prog_static" | grep 'NEEDED.*libaezoo' >/dev/null; then
  echo "prog_static still needs libaezoo.so"; exit 1
fi
run_clean "$tmp/prog_static"

step "P/bin/aezoo list, P/bin/aezoo64 list (RUNPATH), P/bin/aezoo gradcheck"
for exe in aezoo aezoo64; do
  out=$(run_clean "$P/bin/$exe" list)
  grep -q '^vae ' <<<"$out" || { echo "$exe list: no vae in"; echo "$out"; exit 1; }
  echo "$exe list: $(echo "$out" | grep -c '^[a-z]') models"
done
# aezoo runs its float64 sibling P/bin/aezoo64 for gradient checks
run_clean "$P/bin/aezoo" gradcheck linear-ae | tail -1

step "a plugin built out of tree (the README's one line) through the installed aezoo"
# the README's build lines, against the installed packages
cc_pkg aezoo -- -shared -fPIC "$src/examples/plugin/tied.c" -o "$tmp/tied.so"
cc_pkg aezoo64 -- -shared -fPIC "$src/examples/plugin/tied.c" -o "$tmp/tied64.so"
A=$P/bin/aezoo
run=$tmp/tied-run
opts=(--data fashion-mnist --limit 256 --test-limit 100 --batch-size 32 --quiet --no-pictures)
out=$(run_clean "$A" list "$tmp/tied.so")
grep -q "^tied-ae " <<<"$out" || { echo "list of the plugin: $out"; exit 1; }
run_clean "$A" train "$tmp/tied.so" --epochs 2 --out "$tmp/full" "${opts[@]}" >/dev/null
run_clean "$A" train "$tmp/tied.so" --epochs 2 --out "$run" --stop-after 5 "${opts[@]}" >/dev/null
run_clean "$A" train --resume "$run" --quiet >/dev/null
cmp <(run_clean "$A" eval "$tmp/full" | tail -n +2) <(run_clean "$A" eval "$run" | tail -n +2) ||
  { echo "the resumed plugin run differs from the uninterrupted one"; exit 1; }
run_clean "$A" eval "$run" | grep '^loss '
run_clean "$A" reconstruct "$run" --out "$tmp/r.png" --count 8 >/dev/null
run_clean "$A" encode "$run" --out "$tmp/c.npy" --limit 20 >/dev/null
run_clean "$A" gradcheck "$tmp/tied.so" --set code=3 --second-order | tail -1
echo "plugin: trained, resumed bitwise, evaluated, reconstructed, encoded, gradchecked (1st and 2nd order)"
