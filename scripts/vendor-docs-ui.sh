#!/usr/bin/env bash
# Refreshes the documentation UIs embedded in the binary (crates/http/assets/), from the npm
# registry at the pinned versions below: Swagger UI (swagger-ui-dist) and Redoc (redoc). Only
# the files the pages load are kept, with their licences; they are committed, so building and
# serving need no network (docs/decisions.md, "Documentation UIs vendored").
#
#   scripts/vendor-docs-ui.sh     # then review, test (scripts/docs-ui-check.sh) and commit
set -euo pipefail
cd "$(dirname "$0")/.."
SWAGGER_UI=5.35.0
REDOC=2.5.4
assets=crates/http/assets
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack -q "swagger-ui-dist@$SWAGGER_UI" "redoc@$REDOC" >/dev/null)
mkdir -p "$tmp/s" "$tmp/r"
tar xzf "$tmp/swagger-ui-dist-$SWAGGER_UI.tgz" -C "$tmp/s"
tar xzf "$tmp/redoc-$REDOC.tgz" -C "$tmp/r"
rm -rf "$assets/swagger-ui" "$assets/redoc"
mkdir -p "$assets/swagger-ui" "$assets/redoc"
for f in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE; do
  cp "$tmp/s/package/$f" "$assets/swagger-ui/"
done
for f in bundles/redoc.standalone.js bundles/redoc.standalone.js.LICENSE.txt LICENSE; do
  cp "$tmp/r/package/$f" "$assets/redoc/"
done
# The one change to the vendored files: Redoc's side menu shows a logo from Redocly's CDN; it
# points at this server instead (not served, so Redoc hides it), so the page makes no request
# to another host.
sed -i 's#https://cdn.redoc.ly/redoc/logo-mini.svg#/redoc/logo-mini.svg#g' "$assets/redoc/redoc.standalone.js"
! grep -q 'cdn\.redoc\.ly' "$assets/redoc/redoc.standalone.js"
printf '%s\n' "$SWAGGER_UI" >"$assets/swagger-ui/VERSION"
printf '%s\n' "$REDOC" >"$assets/redoc/VERSION"
echo "vendored swagger-ui-dist $SWAGGER_UI and redoc $REDOC into $assets"
