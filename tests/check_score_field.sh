#!/usr/bin/env bash
# check_score_field.sh AEZOO
# `aezoo score-field`: the reconstruction field of a denoising autoencoder
# trained on the spiral points toward the spiral: the mean cosine between
# r(x) - x and the direction to the nearest training point, over the grid
# points near the data, is positive and clearly above the same model's
# before training (whose field points at one spot, the centre). Also the
# picture's size, and the refusal of a model of images (exit 2).
set -euo pipefail
aezoo=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
set_=(--set hidden=128,128,128 --set sigma=0.04)
common=(--data spiral --quiet --no-pictures)
"$aezoo" train dae "${common[@]}" "${set_[@]}" --steps 1 --out untrained >/dev/null
"$aezoo" train dae "${common[@]}" "${set_[@]}" --epochs 300 --lr 0.002 --out trained >/dev/null
cosine() { "$aezoo" score-field "$1" --out "$1.png" --grid 40 --band 0.05 | sed -n 's/.*nearest training point: \([-0-9.]*\) over.*/\1/p'; }
c0=$(cosine untrained) c1=$(cosine trained)
echo "mean cosine: untrained $c0, trained $c1"
awk -v a="$c0" -v b="$c1" 'BEGIN { exit !(b > 0.15 && b > a + 0.05) }' ||
  { echo "the trained field does not point toward the spiral"; exit 1; }
python3 -c "import struct,sys; d=open('trained.png','rb').read(24); w,h=struct.unpack('>II',d[16:24]); sys.exit(not (w==720 and h==720))" ||
  { echo "picture size"; exit 1; }
"$aezoo" train ae --data fashion-mnist --limit 64 --test-limit 16 --steps 1 --quiet --no-pictures --out img >/dev/null
set +e
"$aezoo" score-field img --out img.png 2>err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "draws models of 2-D points" err.txt || { echo "images: exit $rc"; cat err.txt; exit 1; }
echo "score-field checks passed"
