#!/usr/bin/env bash
# Fault injection against a running server on a private PostgreSQL cluster (never the
# machine's shared one):
#  1. restart: a writer creates users continuously while PostgreSQL is stopped for a few
#     seconds and started again → 503s while it is down, recovery without restarting the
#     service, and every user that got a 201 is in the database afterwards;
#  2. pool exhaustion: with one pooled connection held by a request blocked on a table lock,
#     further requests answer 503 within the pool timeout instead of hanging.
#
#   scripts/fault.sh          (needs initdb/pg_ctl; run as root it uses the postgres user)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -1); bindir=$(dirname "$bin")
[ -x "$bindir/initdb" ] || { echo "fault.sh: PostgreSQL server binaries not found" >&2; exit 2; }
cargo build -q -p genonaut
work=$(mktemp -d); chmod 755 "$work"; pgport=${FAULT_PG_PORT:-5499}; port=${FAULT_PORT:-8097}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
as_pg "$bindir/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
pgctl() { as_pg "$bindir/pg_ctl" -D "$work/pg" -o "-p $pgport -k $work -c listen_addresses=127.0.0.1" -l "$work/pg.log" -w "$@" >/dev/null; }
pgctl start
url=postgres://postgres@127.0.0.1:$pgport/genonaut
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true
  pgctl stop -m immediate 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_server() {
  env DATABASE_URL=$url GENONAUT_SCHEMAS=app GENONAUT_DEFAULT_SCHEMA=app GENONAUT_SEED_DEMO=false \
    GENONAUT_PRIVATE_POSTGRES=never API_AUTH=off RATE_LIMIT_PER_IP=0 API_PORT=$port GENONAUT_WORKERS=0 \
    GENONAUT_DATA_DIR="$work/data" RUST_LOG=warn "$@" "${CARGO_TARGET_DIR:-target}/debug/genonaut" serve >>"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && return; sleep 0.2; done
  echo "server did not start"; cat "$work/server.log"; exit 1
}
api=http://127.0.0.1:$port/api/v1

# 1. PostgreSQL restart under writes ----------------------------------------------------------
start_server DB_POOL_TIMEOUT_MS=500 DB_CONNECT_TIMEOUT_MS=500
: >"$work/ok"; : >"$work/codes"
writer() {
  local i=0
  while [ ! -e "$work/stop" ]; do
    i=$((i + 1))
    code=$(curl -s -m 5 -o "$work/body.$1" -w '%{http_code}' -X POST "$api/users" -H 'Content-Type: application/json' \
      -d "{\"username\": \"w$1_$i\", \"email\": \"w$1_$i@example.com\"}" || echo 000)
    echo "$code" >>"$work/codes"
    [ "$code" = 201 ] && echo "w$1_$i" >>"$work/ok"
  done
}
writers=()
for w in 1 2 3 4; do writer $w & writers+=($!); done
sleep 3
pgctl stop -m fast
down_health=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$api/health")
down_ready=$(curl -s -m 5 -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port/ready")
sleep 3
pgctl start
for _ in $(seq 50); do [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$api/health")" = 200 ] && break; sleep 0.2; done
sleep 3
touch "$work/stop"; wait "${writers[@]}" 2>/dev/null || true
up_health=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$api/health")
total=$(wc -l <"$work/codes"); ok=$(wc -l <"$work/ok")
unavailable=$(grep -c '^503$' "$work/codes" || true)
other=$(grep -vcE '^(201|503)$' "$work/codes" || true)
stored=$(psql "$url" -Atc "SELECT count(*) FROM app.users WHERE username = ANY(string_to_array('$(paste -sd, "$work/ok")', ','))")
echo "restart: $total writes, $ok 201, $unavailable 503, $other other; health while down $down_health (ready $down_ready), after $up_health; $stored of $ok acknowledged writes stored"
[ "$down_health" = 503 ] && [ "$down_ready" = 503 ] && [ "$up_health" = 200 ] && [ "$stored" = "$ok" ] && [ "$other" = 0 ] && [ "$unavailable" -gt 0 ] \
  || { echo "FAIL: restart"; exit 1; }

# 2. Pool exhaustion --------------------------------------------------------------------------
kill "$server"; wait "$server" 2>/dev/null || true
start_server API_WORKERS=1 DB_POOL_SIZE=1 DB_POOL_TIMEOUT_MS=300
( psql "$url" -qc "BEGIN; LOCK TABLE app.users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;" >/dev/null ) &
locker=$!
sleep 0.5
# Holds the only connection, waiting for the lock:
curl -s -m 10 -o /dev/null "$api/users/1" &
holder=$!
sleep 0.5
started=$(date +%s%N)
code=$(curl -s -m 10 -o "$work/exhausted" -w '%{http_code}' "$api/content")
ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "pool exhaustion: second request answered $code in $ms ms: $(cat "$work/exhausted")"
[ "$code" = 503 ] && [ "$ms" -lt 3000 ] || { echo "FAIL: pool exhaustion"; exit 1; }
wait "$locker" "$holder" || true
echo "fault tests passed"
