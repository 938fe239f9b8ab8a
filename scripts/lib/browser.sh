# Sourced by the headless-Chromium checks (scripts/docs-ui-check.sh, scripts/browser-check.sh,
# scripts/console-check.sh)
# from the repository root: sets `chromium` (Debian's, or $CHROMIUM), installs playwright-core
# and axe-core from tests/browser/package-lock.json when missing, and builds the debug server.
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "${0##*/}: $chromium is missing (apt-get install chromium)" >&2
  exit 1
fi
(cd tests/browser && { [ -d node_modules/playwright-core ] && npm ls --silent >/dev/null 2>&1 || npm ci --silent --no-audit --no-fund; })
cargo build -q -p genonaut
