#!/usr/bin/env bash
# check_layers.sh SOURCE_ROOT
# The library's floors, bottom up: base (tape-free numerics), autograd (the
# tape and the op-recording API), ops, grad (the reverse sweep, Jacobian
# tools, gradient checks), optim, io, zoo, run; the command (cli) above
# them all. A file may include headers of its own floor or of lower ones,
# never of a floor above its own. Prints every violation and fails on any.
set -euo pipefail
root=$1
floors=(base autograd ops grad optim io zoo run cli)
level() {
  local i
  for i in "${!floors[@]}"; do [ "${floors[$i]}" = "$1" ] && { echo "$i"; return; }; done
  echo -1
}
bad=0 checked=0
for dir in "${floors[@]}"; do
  own=$(level "$dir")
  for f in "$root/$dir"/*.c "$root/$dir"/*.h; do
    [ -e "$f" ] || continue
    checked=$((checked + 1))
    while IFS= read -r inc; do
      top=${inc%%/*}
      other=$(level "$top")
      if [ "$other" -gt "$own" ]; then
        echo "${f#"$root"/}: includes \"$inc\" from floor $top, above its own ($dir)"
        bad=$((bad + 1))
      fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\/[^"]*\)".*/\1/p' "$f")
  done
done
echo "$checked files checked, $bad includes from a floor above"
[ "$bad" -eq 0 ]
