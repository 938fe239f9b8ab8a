#!/usr/bin/env bash
# The API benchmark against the baseline (../shared/bench or BENCH_KIT): a freshly migrated
# `bench` schema loaded with the kit's seed.sql, our release server on it with authentication
# and rate limits off, then the kit's compare.sh (same-run ratios against the baseline).
#
#   scripts/bench.sh                 20,000 items (the kit's default data set)
#   scripts/bench.sh scale           1,000,000 items, 10,000,000 interactions
#
# Knobs: BENCH_BIN, BENCH_PROFILE (production), BENCH_KIT, DATABASE_URL, BENCH_PORT (8081), CONNS, DURATION, ENDPOINTS (see the kit).
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=${BENCH_KIT:-$(cd ../shared/bench 2>/dev/null && pwd || true)}
[ -n "$KIT" ] && [ -x "$KIT/compare.sh" ] || { echo "bench kit not found: set BENCH_KIT" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 2; }
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/genonaut}
PORT=${BENCH_PORT:-8081}
SCHEMA=bench
users=1000 items=20000 interactions=100000
if [ "${1:-}" = scale ]; then
  SCHEMA=bench_scale users=10000 items=1000000 interactions=10000000
fi
export BENCH_SCHEMA=$SCHEMA USER_MAX=$users CONTENT_MAX=$items

# BENCH_BIN measures a binary built elsewhere (the PGO build: BENCH_BIN=target/pgo/release/genonaut
# after scripts/pgo.sh); otherwise the build of Cargo profile BENCH_PROFILE: `production` (fat
# LTO, one codegen unit: what is deployed; the default) or `release` (the quick start's build).
if [ -n "${BENCH_BIN:-}" ]; then
  bin=$BENCH_BIN
else
  profile=${BENCH_PROFILE:-production}
  cargo build --profile "$profile" --quiet -p genonaut
  bin=${CARGO_TARGET_DIR:-target}/$profile/genonaut
fi
echo "bench: measuring $bin"
common=(env GENONAUT_SCHEMAS=$SCHEMA GENONAUT_DEFAULT_SCHEMA=$SCHEMA GENONAUT_SEED_DEMO=false)

# Fresh schema unless it already holds exactly this data set (the scale set takes minutes).
loaded=$(psql "$DATABASE_URL" -Atqc "SELECT count(*) FROM $SCHEMA.content_items" 2>/dev/null || echo 0)
if [ "$loaded" != "$items" ] || [ -n "${BENCH_RELOAD:-}" ]; then
  psql "$DATABASE_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" 2>/dev/null || true
  "${common[@]}" "$bin" migrate
  echo "loading seed.sql: $users users, $items items, $interactions interactions into $SCHEMA"
  # The kit's item generator computes `g * 7919` in integers, which overflows past ~271,000
  # items; counting items in bigint makes the same rows at any size.
  seed=${TMPDIR:-/tmp}/genonaut-seed.sql
  sed 's/generate_series(1, :items) g) s/generate_series(1::bigint, :items) g) s/' "$KIT/seed.sql" >"$seed"
  time PGOPTIONS=-csearch_path=$SCHEMA psql "$DATABASE_URL" -q -v users=$users -v items=$items \
    -v interactions=$interactions -f "$seed"
  psql "$DATABASE_URL" -qc "VACUUM ANALYZE $SCHEMA.content_items, $SCHEMA.user_interactions, $SCHEMA.recommendations, $SCHEMA.users"
fi

# Linux autogroup scheduling (one CPU group per session) starves PostgreSQL's backends, which
# run in the server's session, for up to 1.5 s at a time on a saturated 2-core machine: seen
# with `perf sched timehist` as 1.4 s runnable-but-not-running delays of 7 backends on one CPU,
# and as p99 spikes in one run out of four (never with autogroup off). Both servers are
# measured under the same setting; in production PostgreSQL is on its own host.
# BENCH_KEEP_AUTOGROUP=1 keeps the machine's setting.
autogroup=/proc/sys/kernel/sched_autogroup_enabled
if [ -z "${BENCH_KEEP_AUTOGROUP:-}" ] && [ -w "$autogroup" ] && [ "$(cat "$autogroup")" = 1 ]; then
  echo "bench: kernel.sched_autogroup_enabled 1 -> 0 for the run (BENCH_KEEP_AUTOGROUP=1 keeps it)"
  echo 0 >"$autogroup"
  restore_autogroup() { echo 1 >"$autogroup"; }
else
  restore_autogroup() { :; }
fi

"${common[@]}" API_AUTH=off RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_KEY=0 API_PORT=$PORT GENONAUT_WORKERS=0 \
  RUST_LOG=${RUST_LOG:-info} "$bin" serve >"${TMPDIR:-/tmp}/genonaut-bench-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; restore_autogroup' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null && break; sleep 0.2; done
# One compare.sh run per endpoint, so each line can carry the CPU time the hypervisor took from
# this VM while it ran (`steal` in /proc/stat): a vCPU descheduled by the host for ~100 ms shows
# up as a p99 of 30–150 ms for whichever server was being measured, ours or the baseline
# (docs/performance.md). A p99 is only comparable on a line with little or no steal.
steal_ms() { awk -v hz="$(getconf CLK_TCK)" '/^cpu /{print int($9 * 1000 / hz)}' /proc/stat; }
results=${TMPDIR:-/tmp}/genonaut-bench/bench-$(date +%Y%m%d-%H%M%S).txt
mkdir -p "$(dirname "$results")"
header=
for ep in ${ENDPOINTS:-health content_get content_list user_recs interaction_post}; do
  before=$(steal_ms)
  out=$(ENDPOINTS=$ep SERVER_PID=$server "$KIT/compare.sh" "http://127.0.0.1:$PORT")
  after=$(steal_ms)
  run=$(sed -n 's/^(details in \(.*\))$/\1/p' <<<"$out")
  [ -n "$header" ] || { header=$(head -1 "$run/ratios.txt"); echo "$header steal_ms" >"$results"; }
  echo "$(sed -n 2p "$run/ratios.txt") $((after - before))" >>"$results"
done
column -t "$results"
echo "(per-endpoint details under ${TMPDIR:-/tmp}/genonaut-bench/; this table: $results)"
