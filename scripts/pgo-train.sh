#!/usr/bin/env bash
# The training load of the production build (scripts/pgo.sh), and its check in the test suite.
#
#   scripts/pgo-train.sh BINARY [REQUESTS]
#
# Starts BINARY on a fresh schema of DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/genonaut) seeded with the demo data set (60 users, 1,200
# items), authentication and rate limits off; sends the load; stops it gracefully (an
# instrumented binary writes its profile on exit) and drops the schema.
#
# The load should look like production traffic: REQUESTS (default 4000) on each hot route (the
# benchmark's five: health, content by id, content list, a user's recommendations, recording an
# interaction) and a little of every other area (reads, writes, searches, statistics, jobs,
# error answers), so that no area's code is laid out as cold. Requests are sequential on
# keep-alive connections (curl's URL globbing; a `#n` fragment is not sent, it only repeats a
# URL). Fails if a hot route answers anything but 2xx or any request gets a 5xx: a profile
# trained on error paths would make the production build slower, silently.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: pgo-train.sh BINARY [REQUESTS]}
n=${2:-4000}
url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/genonaut}
port=${PGO_PORT:-8079}
schema=pgo_train_$$
log=${TMPDIR:-/tmp}/$schema.log
command -v curl >/dev/null || { echo "pgo-train.sh: curl is missing" >&2; exit 2; }

env DATABASE_URL="$url" GENONAUT_SCHEMAS=$schema GENONAUT_DEFAULT_SCHEMA=$schema GENONAUT_DEMO_SCHEMA=$schema \
  GENONAUT_PRIVATE_POSTGRES=never API_AUTH=off RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_KEY=0 API_PORT="$port" \
  GENONAUT_WORKERS=1 GENONAUT_GENERATION_STEP_MS=1 GENONAUT_DATA_DIR="${TMPDIR:-/tmp}/$schema" \
  GENONAUT_MEDIA_DIR="${TMPDIR:-/tmp}/$schema/media" RUST_LOG=warn "$bin" serve >"$log" 2>&1 &
server=$!
cleanup() {
  kill $server 2>/dev/null || true
  wait $server 2>/dev/null || true
  psql "$url" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "${TMPDIR:-/tmp}/$schema"
}
trap cleanup EXIT
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null || { cat "$log" >&2; exit 1; }

api=http://127.0.0.1:$port/api/v1
codes=${TMPDIR:-/tmp}/$schema.codes
: >"$codes"
# Every answer's status goes to $codes (curl writes it on stderr), bodies are dropped.
get() { curl -s -w '%{stderr}%{http_code}\n' "$@" 2>>"$codes" >/dev/null; }
send() {
  local method=$1 body=$2
  shift 2
  get -X "$method" -H 'Content-Type: application/json' -d "$body" "$@"
}
# A hot route: every answer must be 2xx.
hot() {
  local bad
  bad=$(curl -s -o /dev/null -w '%{http_code}\n' "$@" | grep -cv '^2' || true)
  [ "$bad" = 0 ] || { echo "pgo-train.sh: $bad answers other than 2xx from $*" >&2; exit 1; }
}

# Data the reads need: 20 recommendations for every user, a few generation jobs.
for user in $(seq 1 60); do
  items=
  for k in $(seq 1 20); do
    items+="${items:+,}{\"user_id\":$user,\"content_item_id\":$(( (user * 37 + k * 53) % 1200 + 1 )),\"recommendation_score\":0.$(( 99 - k )),\"algorithm_version\":\"pgo_v1\",\"metadata\":{\"rank\":$k}}"
  done
  send POST "{\"recommendations\":[$items]}" "$api/recommendations/bulk"
done
for user in 1 2 3; do
  send POST "{\"user_id\":$user,\"job_type\":\"text\",\"prompt\":\"a story about the sea\",\"parameters\":{\"length\":3}}" \
    "$api/generation-jobs/#[1-10]"
done

# The hot routes.
hot "$api/health#[1-$n]"
hot "$api/content/[1-1200]#[1-$(( n / 1200 + 1 ))]"
hot "$api/content/?skip=0&limit=20#[1-$n]"
hot "$api/users/[1-28]/recommendations#[1-$(( n / 28 + 1 ))]"
hot -H 'Content-Type: application/json' -d '{"user_id":7,"content_item_id":42,"interaction_type":"view"}' \
  "$api/interactions/#[1-$n]"

# Everything else, a little.
m=$(( n / 40 + 1 ))
get "$api/users/?skip=0&limit=20#[1-$m]" "$api/users/[1-60]" "$api/users/[1-60]/interactions" \
  "$api/users/[1-60]/stats" "$api/users/stats/overview#[1-$m]" "$api/users/search?search_term=user#[1-$m]"
for i in $(seq 1 40); do
  send POST "{\"username\":\"pgo_user_$i\",\"email\":\"pgo$i@example.com\",\"preferences\":{\"theme\":\"dark\"}}" "$api/users/"
  send PUT "{\"preferences\":{\"theme\":\"light\",\"n\":$i}}" "$api/users/$((60 + i))/preferences"
  send POST '{"title":"PGO piece","content_type":"text","content_data":"Some text","creator_id":1,"tags":["sea","night"],"item_metadata":{"k":1},"is_public":true}' "$api/content/"
  send PUT '{"title":"PGO piece, revised","tags":["sea"]}' "$api/content/$((1200 + i))"
  send POST '{"user_id":2,"content_item_id":3,"interaction_type":"like","rating":5,"duration":120,"metadata":{"device":"mobile"}}' "$api/interactions/"
  send PUT '{"recommendation_score":0.5}' "$api/recommendations/$i"
  send PUT '{"feedback":"clicked","metadata":{}}' "$api/recommendations/$i/feedback"
done
get "$api/content/type/image?limit=20#[1-$m]" "$api/content/public/all?limit=20#[1-$m]" \
  "$api/content/top-rated/all?limit=20#[1-$m]" "$api/content/recent/all?limit=20#[1-$m]" \
  "$api/content/creator/[1-60]?limit=20" "$api/content/?search_term=sea&limit=20#[1-$m]" \
  "$api/content/stats/overview#[1-$m]" "$api/content/[1-60]/similar"
send POST '{"search_term":"night","tags":["sea"],"limit":20}' "$api/content/search#[1-$m]"
get "$api/interactions/?user_id=[1-60]&limit=20" "$api/interactions/user/[1-60]/recent" \
  "$api/interactions/user/[1-60]/summary" "$api/interactions/content/[1-60]/stats" \
  "$api/interactions/type/view/interactions?limit=20#[1-$m]" "$api/interactions/analytics/user-behavior/[1-60]" \
  "$api/interactions/[1-200]"
get "$api/recommendations/?user_id=[1-60]&limit=20" "$api/recommendations/user/[1-60]/top" \
  "$api/recommendations/user/[1-60]/unserved" "$api/recommendations/user/[1-60]/stats" \
  "$api/recommendations/content/[1-60]/recommendations" "$api/recommendations/stats/overview#[1-$m]" \
  "$api/recommendations/[1-200]"
send POST '{"user_id":5,"algorithm_version":"hybrid","limit":10}' "$api/recommendations/generate#[1-$m]"
send POST '{"recommendation_ids":[1,2,3]}' "$api/recommendations/served#[1-$m]"
get "$api/generation-jobs/?limit=20#[1-$m]" "$api/generation-jobs/[1-30]" "$api/generation-jobs/queue/stats#[1-$m]" \
  "$api/generation-jobs/user/[1-3]/jobs" "$api/generation-jobs/stats/overview#[1-$m]" \
  "$api/stats/global#[1-$m]" "$api/databases" "$api/schemas"
get "http://127.0.0.1:$port/metrics" "http://127.0.0.1:$port/ready#[1-$m]" "http://127.0.0.1:$port/openapi.json"

# Error answers: unknown ids (404), bad input (422), an unknown schema (400).
get "$api/content/999999#[1-$m]" "$api/users/999999#[1-$m]" "$api/content/abc#[1-$m]" \
  "$api/content/?limit=1000#[1-$m]"
get -H 'X-Genonaut-Schema: nope' "$api/health#[1-$m]"
send POST '{"user_id":"x","content_item_id":1,"interaction_type":"stare"}' "$api/interactions/#[1-$m]"
send POST '{"user_id":999999,"content_item_id":1,"interaction_type":"view"}' "$api/interactions/#[1-$m]"
send POST '{"username":"a","email":"not-an-email"}' "$api/users/#[1-$m]"

total=$(wc -l <"$codes")
errors=$(grep -c '^5' "$codes" || true)
lost=$(grep -c '^000' "$codes" || true)
echo "pgo-train.sh: ~$n requests on each of the 5 hot routes (all 2xx), $total others ($(grep -c '^[23]' "$codes" || true) 2xx/3xx, no 5xx)"
[ "$errors" = 0 ] && [ "$lost" = 0 ] || { echo "pgo-train.sh: $errors answers 5xx, $lost without an answer" >&2; exit 1; }
rm -f "$codes"
# A graceful stop: the profile of an instrumented binary is written when the process exits.
kill -TERM $server
wait $server || true
