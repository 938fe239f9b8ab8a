#!/usr/bin/env bash
# The whole test suite: domain, adapter (real PostgreSQL), HTTP and end-to-end tests in
# parallel with cargo-nextest, then the documentation examples.
#
#   scripts/test.sh [nextest filters/options…]
#
# Needs PostgreSQL at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/genonaut_test;
# the database is created if missing). If it is not answering and this machine has a Debian
# cluster installed, the cluster is started. Every test gets a fresh schema; nothing is shared.
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/genonaut_test}

pg_up() { pg_isready -q -d "$TEST_DATABASE_URL" >/dev/null 2>&1; }
if command -v pg_isready >/dev/null && ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -V | tail -1)
    echo "PostgreSQL is not answering; starting cluster $version/main" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 30); do pg_up && break; sleep 1; done
  fi
fi

command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked

cargo nextest run --workspace --profile ci "$@"
cargo test --workspace --doc --quiet

# Property-based tests of the HTTP API against its own OpenAPI document.
scripts/schemathesis.sh

# The production build's training load (scripts/pgo.sh) on the debug server: its hot routes must
# answer 2xx and nothing 5xx, or the profile would train the build on error paths.
DATABASE_URL=$TEST_DATABASE_URL scripts/pgo-train.sh "${CARGO_TARGET_DIR:-target}/debug/genonaut" 200

# Fault injection on a private PostgreSQL cluster: restart under writes, pool exhaustion.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  scripts/fault.sh
else
  echo "skipping scripts/fault.sh: PostgreSQL server binaries (initdb) are not installed" >&2
fi
