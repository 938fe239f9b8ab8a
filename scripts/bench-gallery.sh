#!/usr/bin/env bash
# The gallery at a million items (issue 20: "gallery first page ≤ 200 ms server time"):
# seeds ITEMS content items (default 1,000,000; scripts/lib/gallery-seed.sql: skewed creators,
# types, visibility and tags) into its own schema, starts the server on it (auth and rate limits
# off, no workers) and times REQUESTS requests (default 200) of each gallery listing, one after
# another on one keep-alive connection:
#   first page unfiltered, public_only, by type, by a common tag (20 % of items), by a rare tag
#   (0.01 %), by creator (the largest, ~4.7 %, and a typical one), type + tag, public + type +
#   tag, two tags, creator + tag, a title search, and a deep page (DEEP items in, default
#   500,000) by `cursor` against the same page by `skip`.
# "server" is the time the server logs for the request (its access line, `ms`: from the
# request's arrival to the response's head), "client" what curl saw on localhost; p50 and p99.
#
#   scripts/bench-gallery.sh          (just bench-gallery)
#
# Knobs: BENCH_BIN (a built binary), BENCH_PROFILE (release; `debug` for the dev build), DATABASE_URL,
# BENCH_SCHEMA (bench_gallery, kept between runs; BENCH_RELOAD=1 reseeds), BENCH_PORT (18081),
# ITEMS, USERS (10,000), REQUESTS, LIMIT (page size, 24), DEEP.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/genonaut}
PORT=${BENCH_PORT:-18081}
SCHEMA=${BENCH_SCHEMA:-bench_gallery}
ITEMS=${ITEMS:-1000000} USERS=${USERS:-10000} N=${REQUESTS:-200} LIMIT=${LIMIT:-24} DEEP=${DEEP:-500000}
for tool in curl psql python3; do
  command -v $tool >/dev/null || { echo "bench-gallery: $tool is missing" >&2; exit 2; }
done

if [ -n "${BENCH_BIN:-}" ]; then
  bin=$BENCH_BIN
else
  profile=${BENCH_PROFILE:-release}
  if [ "$profile" = debug ]; then
    cargo build --quiet -p genonaut
  else
    cargo build --profile "$profile" --quiet -p genonaut
  fi
  bin=${CARGO_TARGET_DIR:-target}/$profile/genonaut
fi
echo "bench-gallery: measuring $bin"
common=(env GENONAUT_SCHEMAS=$SCHEMA GENONAUT_DEFAULT_SCHEMA=$SCHEMA GENONAUT_SEED_DEMO=false)

# Fresh schema unless it already holds exactly this data set.
loaded=$(psql "$DATABASE_URL" -Atqc "SELECT count(*) FROM $SCHEMA.content_items" 2>/dev/null || echo 0)
if [ "$loaded" != "$ITEMS" ] || [ -n "${BENCH_RELOAD:-}" ]; then
  psql "$DATABASE_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" 2>/dev/null || true
  "${common[@]}" "$bin" migrate
  echo "bench-gallery: seeding $USERS users and $ITEMS items into $SCHEMA"
  time PGOPTIONS=-csearch_path=$SCHEMA,public psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 \
    -v users="$USERS" -v items="$ITEMS" -f scripts/lib/gallery-seed.sql >/dev/null
  psql "$DATABASE_URL" -qc "VACUUM ANALYZE $SCHEMA.content_items, $SCHEMA.content_tags, $SCHEMA.users"
fi

log=${TMPDIR:-/tmp}/genonaut-bench-gallery.log
"${common[@]}" API_AUTH=off RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_KEY=0 API_PORT=$PORT GENONAUT_WORKERS=0 \
  GENONAUT_AUTO_MIGRATE=false LOG_FORMAT=json RUST_LOG=warn,genonaut::access=info "$bin" serve >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null || { echo "server did not start: $log" >&2; exit 1; }

base="http://127.0.0.1:$PORT/api/v1/content?limit=$LIMIT"
cursor=$(curl -sf "$base&skip=$((DEEP - LIMIT))" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')

# Times N requests of one URL; prints "p50 p99" of the server's and of curl's milliseconds.
measure() {
  local url=$1 cfg lines_before
  cfg=$(mktemp)
  for _ in $(seq "$N"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done >"$cfg"
  curl -s -o /dev/null -K <(for _ in 1 2 3 4 5; do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done)
  sleep 0.2
  lines_before=$(wc -l <"$log")
  curl -s -w '%{http_code} %{time_total}\n' -K "$cfg" >"$cfg.out"
  sleep 0.3
  rm -f "$cfg"
  tail -n +"$((lines_before + 1))" "$log" | python3 -c '
import json, sys
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
server = []
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    f = e.get("fields", e)
    if "ms" in f and str(f.get("route", "")).startswith("/api/v1/content"):
        server.append(float(f["ms"]))
client, codes = [], set()
for line in open(sys.argv[1]):
    code, t = line.split()
    codes.add(code)
    client.append(float(t) * 1000)
if codes != {"200"} or len(server) != len(client):
    sys.exit(f"bad run: statuses {codes}, {len(server)} server lines for {len(client)} requests")
print(f"{pct(server, 50):.1f} {pct(server, 99):.1f} {pct(client, 50):.1f} {pct(client, 99):.1f}")
' "$cfg.out"
  rm -f "$cfg.out"
}

printf '%-34s %10s %10s %10s %10s %9s\n' case "server p50" "server p99" "client p50" "client p99" total
run() {
  local name=$1 query=$2 total
  total=$(curl -sf "$base$query" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  read -r s50 s99 c50 c99 < <(measure "$base$query")
  printf '%-34s %10s %10s %10s %10s %9s\n' "$name" "$s50" "$s99" "$c50" "$c99" "$total"
}
run "first page" ""
run "public_only" "&public_only=true"
run "type (image)" "&content_type=image"
run "common tag (landscape, 20 %)" "&tags=landscape"
run "rare tag (aurora, 0.01 %)" "&tags=aurora"
run "creator (largest)" "&creator_id=1"
run "creator (typical)" "&creator_id=5000"
run "type + tag (video, landscape)" "&content_type=video&tags=landscape"
run "public + type + tag" "&public_only=true&content_type=image&tags=t3"
run "two tags (landscape + t3)" "&tags=landscape&tags=t3"
run "creator + tag (largest, landscape)" "&creator_id=1&tags=landscape"
run "title search (tide, 1 in 6 items)" "&search_term=tide"
run "deep page $DEEP by cursor" "&cursor=$cursor"
run "deep page $DEEP by skip" "&skip=$DEEP"
echo "(server log: $log; $N requests per case, page size $LIMIT, $ITEMS items in $SCHEMA)"
