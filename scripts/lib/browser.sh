# Sourced by the headless-Chromium checks (scripts/docs-ui-check.sh, scripts/browser-check.sh,
# scripts/console-check.sh)
# from the repository root: sets `chromium` (Debian's, or $CHROMIUM), installs playwright-core
# and axe-core from tests/browser/package-lock.json when missing, and builds the debug server;
# `serve_debug_server` starts it for a check and cleans up after it.
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "${0##*/}: $chromium is missing (apt-get install chromium)" >&2
  exit 1
fi
(cd tests/browser && { [ -d node_modules/playwright-core ] && npm ls --silent >/dev/null 2>&1 || npm ci --silent --no-audit --no-fund; })
cargo build -q -p genonaut

# serve_debug_server SCHEMA… — starts the debug server ($bin) on $port with the environment the
# caller exported (one job worker, fast offline generation, a fresh media key), its log in
# $work/server.log; on exit stops it, drops SCHEMA… from $url and removes $work. Returns once
# the server answers.
serve_debug_server() {
  check_schemas=("$@")
  GENONAUT_MEDIA_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') API_PORT=$port GENONAUT_WORKERS=1 \
    GENONAUT_GENERATION_STEP_MS=40 RUST_LOG=info "$bin" serve >"$work/server.log" 2>&1 &
  server=$!
  trap stop_debug_server EXIT
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.3; done
}

stop_debug_server() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  for schema in "${check_schemas[@]}"; do
    psql "$url" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
