#!/usr/bin/env bash
# The served OpenAPI document, checked with the tools people use on it:
#   1. openapi-spec-validator (PyPI) validates /openapi.json of a running debug server;
#   2. openapi-python-client (PyPI) generates a Python client from it;
#   3. tests/openapi/workflow.py runs a real workflow through that client against the server
#      (user, content, interaction, recommendations, a generation job polled to completion).
# Exits non-zero on any failure.
#
#   scripts/openapi-check.sh
#
# Uses the debug build of the server on a fresh schema of TEST_DATABASE_URL, authentication off.
set -euo pipefail
cd "$(dirname "$0")/.."
VALIDATOR=0.9.0
GENERATOR=0.29.1
venv=target/openapi-venv
if [ ! -x "$venv/bin/openapi-python-client" ] || ! "$venv/bin/pip" show -q "openapi-python-client==$GENERATOR" >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "openapi-spec-validator==$VALIDATOR" "openapi-python-client==$GENERATOR"
fi
cargo build -q -p genonaut
url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/genonaut_test}
schema=openapi_check_$$
port=${OPENAPI_CHECK_PORT:-8096}
work=${TMPDIR:-/tmp}/$schema
mkdir -p "$work"
psql "${url%/*}/postgres" -qc "SELECT 1" >/dev/null
env DATABASE_URL="$url" GENONAUT_SCHEMAS=$schema GENONAUT_DEFAULT_SCHEMA=$schema GENONAUT_SEED_DEMO=false \
  GENONAUT_PRIVATE_POSTGRES=never API_AUTH=off API_PORT=$port GENONAUT_WORKERS=1 \
  GENONAUT_GENERATION_STEP_MS=0 GENONAUT_DATA_DIR="$work/data" RUST_LOG=warn \
  "${CARGO_TARGET_DIR:-target}/debug/genonaut" serve >"$work/server.log" 2>&1 &
server=$!
cleanup() {
  kill $server 2>/dev/null || true
  wait $server 2>/dev/null || true
  psql "$url" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/api/v1/health" >/dev/null && break; sleep 0.3; done
curl -sf "$base/openapi.json" -o "$work/openapi.json"

echo "openapi-spec-validator $VALIDATOR:"
"$venv/bin/openapi-spec-validator" "$work/openapi.json"

echo "openapi-python-client $GENERATOR:"
"$venv/bin/openapi-python-client" generate --path "$work/openapi.json" --meta none \
  --output-path "$work/client/genonaut_client" --overwrite --fail-on-warning \
  --config tests/openapi/client-config.yaml
PYTHONPATH="$work/client" "$venv/bin/python" tests/openapi/workflow.py "$base" "$schema"
