#!/usr/bin/env bash
# The documentation UIs (/docs: Swagger UI, /redoc: Redoc) in headless Chromium with every
# request to another host blocked: both must render every operation from the embedded assets
# alone (tests/browser/docs-ui.mjs). Needs Debian's `chromium` (CHROMIUM overrides the path) and
# Node.js; playwright-core comes from tests/browser/package-lock.json (`npm ci`).
#
#   scripts/docs-ui-check.sh      # screenshots in target/docs-ui/
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/browser.sh
url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/genonaut_test}
schema=docs_ui_$$
port=${DOCS_UI_PORT:-8097}
work=${TMPDIR:-/tmp}/$schema
mkdir -p "$work" target/docs-ui
psql "${url%/*}/postgres" -qc "SELECT 1" >/dev/null
env DATABASE_URL="$url" GENONAUT_SCHEMAS=$schema GENONAUT_DEFAULT_SCHEMA=$schema GENONAUT_SEED_DEMO=false \
  GENONAUT_PRIVATE_POSTGRES=never API_PORT=$port GENONAUT_WORKERS=0 GENONAUT_DATA_DIR="$work/data" \
  RUST_LOG=warn "${CARGO_TARGET_DIR:-target}/debug/genonaut" serve >"$work/server.log" 2>&1 &
server=$!
cleanup() {
  kill $server 2>/dev/null || true
  wait $server 2>/dev/null || true
  psql "$url" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.3; done
CHROMIUM=$chromium node tests/browser/docs-ui.mjs "http://127.0.0.1:$port" target/docs-ui
