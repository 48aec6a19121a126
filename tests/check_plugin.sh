#!/usr/bin/env bash
# check_plugin.sh AEZOO SOURCE_ROOT BUILD_ROOT RUN_API
# A model written outside the tree, as a plugin (examples/plugin/tied.c built
# as tied.so and tied64.so), gets what a zoo model gets from the aezoo
# command: list, train, eval, reconstruct, encode, sample's clear refusal,
# gradcheck (first and second order, in float64 from tied64.so), resume
# bitwise equal to an uninterrupted run, and clear errors for a moved or
# missing plugin, another ABI, and a model name taken by the zoo.
set -euo pipefail
aezoo=$(realpath "$1") src=$(realpath "$2") build=$(realpath "$3") run_api=$(realpath "$4")
dir=$build/examples
cc_flags="-I$src -L$build -laezoo -Wl,-rpath,$build"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$dir/tied.so" "$dir/tied64.so" "$tmp/"
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }
data=(--data fashion-mnist --limit 512 --test-limit 200 --batch-size 32 --quiet --no-pictures)
# eval reads the whole test split by default (10000 images, 1.5 to 2.4 s a
# run under ASan): the first 1000 tell the same (a model's loss on them)
ev="--limit 1000"

"$aezoo" list ./tied.so >list.txt && grep -q '^tied-ae ' list.txt || fail "list ./tied.so does not show tied-ae"
"$aezoo" list ./tied.so --names >list.txt && grep -qx 'tied-ae' list.txt || fail "list --names"

# train, uninterrupted, 2 epochs of 16 steps
"$aezoo" train ./tied.so --epochs 2 --out full "${data[@]}" >/dev/null || fail "train ./tied.so"
[ "$(wc -l < full/train.csv)" -eq 33 ] || fail "train.csv should have 32 rows and a header"
awk -F, 'NR==2{a=$4} END{if (!($4 < 0.8 * a)) exit 1}' full/train.csv || fail "the loss did not fall"

# the same run stopped after 10 steps and resumed, and a run of 1 epoch extended to 2
"$aezoo" train ./tied.so:tied-ae --epochs 2 --out part --stop-after 10 "${data[@]}" >/dev/null || fail "stop-after"
"$aezoo" train --resume part --quiet >/dev/null || fail "resume"
"$aezoo" train ./tied.so --epochs 1 --out ext "${data[@]}" >/dev/null || fail "train 1 epoch"
"$aezoo" train --resume ext --epochs 2 --quiet >/dev/null || fail "extend to 2 epochs"
for d in part ext; do
  cmp <(cut -d, -f1-6 full/train.csv) <(cut -d, -f1-6 $d/train.csv) || fail "$d's losses differ from the uninterrupted run's"
  cmp <("$aezoo" eval full $ev | tail -n +2) <("$aezoo" eval $d $ev | tail -n +2) || fail "$d's final model differs from the uninterrupted run's"
done

"$aezoo" eval full $ev >ev.txt && grep -q '^loss ' ev.txt || fail "eval"
"$aezoo" reconstruct full --out r.png --count 8 >/dev/null && [ -s r.png ] || fail "reconstruct"
"$aezoo" encode full --out codes.npy --limit 50 >/dev/null && [ -s codes.npy ] || fail "encode"
if "$aezoo" sample full --out s.png 2>err.txt; then fail "sample of a non-generative plugin model"; fi
grep -q "not generative" err.txt || fail "sample's message"
"$aezoo" gradcheck ./tied.so --set code=3 >gc.txt || { cat gc.txt; fail "gradcheck"; }
"$aezoo" gradcheck ./tied.so --set code=3 --second-order >gc2.txt || { cat gc2.txt; fail "gradcheck --second-order"; }
"$aezoo" gradcheck tied-ae --plugin ./tied.so --set code=3 >gc3.txt || { cat gc3.txt; fail "gradcheck NAME --plugin"; }

# a program's own run (examples/run_api.c: the same model through ae_run): the
# commands read its run directory, given the plugin that holds the model
"$run_api" api 2 >api.txt || fail "run_api"
[ -s api/best/model.safetensors ] && grep -q ',val_loss,' api/train.csv || fail "run_api's run directory"
"$aezoo" eval api --plugin ./tied.so $ev >ev.txt && grep -q '^loss ' ev.txt || fail "eval of run_api's run"
"$aezoo" train --resume api --epochs 3 --plugin ./tied.so --quiet >/dev/null || fail "resume of run_api's run"

# the plugin moved: a clear error, then --plugin PATH finds it
mkdir moved && mv tied.so tied64.so moved/
if "$aezoo" eval full 2>err.txt; then fail "eval with the plugin gone"; fi
grep -q "plugin" err.txt && grep -q -- "--plugin" err.txt || { cat err.txt; fail "moved plugin's message"; }
"$aezoo" eval full --plugin moved/tied.so $ev >ev.txt && grep -q '^loss ' ev.txt || fail "eval --plugin"
"$aezoo" train --resume full --epochs 3 --plugin moved/tied.so --quiet >/dev/null || fail "resume with --plugin"

# refusals: missing file, not a plugin, another ABI, a taken name; exit 1, one message, no crash
check_refused() { # name, expected text, command...
  local what=$1 text=$2
  shift 2
  set +e
  "$@" >out.txt 2>err.txt
  local rc=$?
  set -e
  [ "$rc" -ge 1 ] && [ "$rc" -lt 128 ] || fail "$what: exit $rc"
  grep -q "$text" err.txt || { cat err.txt; fail "$what: message lacks '$text'"; }
}
check_refused "missing plugin" "no such file" "$aezoo" list ./nothing.so
check_refused "not a plugin" "exports no aezoo_models" "$aezoo" list /usr/lib/x86_64-linux-gnu/libz.so.1
# a minimal model, exported with another ABI version, and under a zoo model's name
cat > fake.h <<'C'
#include "aezoo.h"
static ae_val *enc(ae_model *m, ae_tape *t, ae_val *x) { return ae_model_flat(m, t, x); }
static ae_val *lossf(ae_model *m, ae_tape *t, ae_val *x, ae_rng *r, ae_terms *tm) { return ae_sum(t, enc(m, t, x)); }
static int build(ae_model *m, ae_rng *r) { return 0; }
C
cat > abi.c <<'C'
#include "fake.h"
static const ae_model_def fake = {.name = "old-model", .description = "built for another ABI", .build = build,
                                  .loss = lossf, .encode = enc, .reconstruct = enc};
__attribute__((visibility("default"))) const int aezoo_plugin_abi = 999, aezoo_plugin_real_size = sizeof(ae_real);
__attribute__((visibility("default"))) const ae_model_def *const aezoo_models[] = {&fake, NULL};
C
cat > taken.c <<'C'
#include "fake.h"
static const ae_model_def fake = {.name = "ae", .description = "a name the zoo has", .build = build, .loss = lossf,
                                  .encode = enc, .reconstruct = enc};
AEZOO_PLUGIN(&fake);
C
# shellcheck disable=SC2086 # cc_flags is a list of flags
cc -shared -fPIC abi.c -o abi.so $cc_flags
check_refused "another ABI" "plugin ABI 999" "$aezoo" list ./abi.so
# shellcheck disable=SC2086
cc -shared -fPIC taken.c -o taken.so $cc_flags
check_refused "a taken name" "taken by the zoo" "$aezoo" list ./taken.so
echo "plugin checks passed"
