#!/usr/bin/env bash
# The console (/console) in headless Chromium, against the real debug server with PostgreSQL,
# the offline generators and API keys on, with every request to another host blocked
# (tests/browser/console.mjs): sign in with a key; browse, filter and search the gallery; open
# an item and like it; generate an image and watch it complete live (WebSocket with a ticket);
# see a recommendation with its explanation, dismiss it, refresh — gone; create an experiment
# and see its results page; revoke a key as admin; axe-core on every page (no serious or
# critical violation); one run at 375×812; the data set picker switches schemas. Fails on a CSP violation, a page error, a request to
# another host, or the key in any URL or in the server log. Screenshots: target/console-shots/.
# Needs Debian's `chromium` (CHROMIUM overrides the path) and Node.js; playwright-core and
# axe-core come from tests/browser/package-lock.json (`npm ci`).
#
#   scripts/console-check.sh
#
# Knobs: CONSOLE_CHECK_PORT (8094), TEST_DATABASE_URL, GENONAUT_EMBED_MODEL_DIR (semantic search;
# fetched by scripts/fetch-model.sh when unset).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/browser.sh
bin=${CARGO_TARGET_DIR:-target}/debug/genonaut
url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/genonaut_test}
schema=console_check_$$
port=${CONSOLE_CHECK_PORT:-8094}
work=${TMPDIR:-/tmp}/$schema
shots=${CARGO_TARGET_DIR:-target}/console-shots
mkdir -p "$work" "$shots"
psql "${url%/*}/postgres" -qc "SELECT 1" >/dev/null
if [ -z "${GENONAUT_EMBED_MODEL_DIR:-}" ]; then
  GENONAUT_EMBED_MODEL_DIR=$(cd "$(scripts/fetch-model.sh)" && pwd)
fi
# Two schemas (the page switches between them), keys on (the default), one job worker, a fixed
# media key, the offline generators.
export DATABASE_URL="$url" GENONAUT_SCHEMAS=$schema,${schema}_b GENONAUT_DEFAULT_SCHEMA=$schema GENONAUT_SEED_DEMO=false \
  GENONAUT_PRIVATE_POSTGRES=never GENONAUT_DATA_DIR="$work/data" API_AUTH=on GENONAUT_EMBED_MODEL_DIR
"$bin" migrate >/dev/null
# The admin key the browser signs in with, and a key for the browser to revoke.
admin=$("$bin" keys create --name console-check-admin --scope admin 2>/dev/null)
victim=$("$bin" keys create --name console-check-victim --scope read 2>/dev/null)
serve_debug_server "$schema" "${schema}_b"
CHROMIUM=$chromium GENONAUT_KEY=$admin GENONAUT_VICTIM_KEY=$victim \
  node tests/browser/console.mjs "http://127.0.0.1:$port" "$shots"
# No key (nor any secret part of one) reached the server log.
if grep -E "gnt_|${admin##*_}|${victim##*_}" "$work/server.log"; then
  echo "console-check: a key appeared in the server log" >&2
  exit 1
fi
echo "console-check: no key in the server log"
