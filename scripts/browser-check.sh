#!/usr/bin/env bash
# Browser access with keys on, in headless Chromium with every request to another host blocked
# (tests/browser/browser-access.mjs): a page (from a loopback origin of its own, so cross-origin
# to the API, as a front end would be) follows a generation job
# over the WebSocket with a single-use ticket (POST /api/v1/ws-tickets) to `completed`, then
# shows the generated image through its signed media URL (naturalWidth > 0), while the plain
# /media/ path stays closed to it. Needs Debian's `chromium` (CHROMIUM overrides the path) and
# Node.js; playwright-core comes from tests/browser/package-lock.json (`npm ci`).
#
#   scripts/browser-check.sh      # screenshot in target/browser-check/
#
# Knobs: BROWSER_CHECK_PORT (8098), TEST_DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/browser.sh
bin=${CARGO_TARGET_DIR:-target}/debug/genonaut
url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/genonaut_test}
schema=browser_check_$$
port=${BROWSER_CHECK_PORT:-8098}
work=${TMPDIR:-/tmp}/$schema
mkdir -p "$work" target/browser-check
psql "${url%/*}/postgres" -qc "SELECT 1" >/dev/null
# Keys on (the default), one job worker, a fixed media key.
export DATABASE_URL="$url" GENONAUT_SCHEMAS=$schema GENONAUT_DEFAULT_SCHEMA=$schema GENONAUT_SEED_DEMO=false \
  GENONAUT_PRIVATE_POSTGRES=never GENONAUT_DATA_DIR="$work/data" API_AUTH=on
"$bin" migrate >/dev/null
# An admin key first (else the server creates one and prints it), then the check's own key.
"$bin" keys create --name browser-check-admin --scope admin >/dev/null 2>&1
key=$("$bin" keys create --name browser-check --scope write 2>/dev/null)
serve_debug_server "$schema"
CHROMIUM=$chromium GENONAUT_KEY=$key node tests/browser/browser-access.mjs "http://127.0.0.1:$port" target/browser-check
# Neither the key, the ticket nor a media signature reached the log.
if grep -E "gnt_|gwt_|sig=|ticket=" "$work/server.log"; then
  echo "browser-check: a secret appeared in the server log" >&2
  exit 1
fi
echo "browser-check: no key, ticket or signature in the server log"
