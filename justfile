# Genonaut developer tasks. `just --list` shows them. (Every recipe is a plain command; the two
# README commands work without `just`.)

# Serve the API on 127.0.0.1:8000 (migrates and seeds the demo schema first).
run:
    cargo run --release

# The whole test suite (the README's test command).
test *ARGS:
    scripts/test.sh {{ARGS}}

# Formatting and lints, as CI checks them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Everything CI runs.
ci:
    .ci/run

# Apply pending migrations to every served schema.
migrate:
    cargo run --release -- migrate

# Create the database, schemas and the admin/read-write/read-only roles (idempotent).
db-init:
    cargo run --release -- db init

# Regenerate crates/db/src/schema.rs with diesel print-schema from a scratch database
# (needs diesel_cli: cargo install diesel_cli --no-default-features --features postgres).
schema url="postgres://postgres@127.0.0.1:5432/genonaut_schemagen":
    psql "{{replace(url, '/genonaut_schemagen', '/postgres')}}" -qc "DROP DATABASE IF EXISTS genonaut_schemagen" -c "CREATE DATABASE genonaut_schemagen"
    diesel migration run --database-url {{url}}
    diesel print-schema --database-url {{url}} > crates/db/src/schema.rs
    psql "{{replace(url, '/genonaut_schemagen', '/postgres')}}" -qc "DROP DATABASE genonaut_schemagen"

# Build the API documentation of every crate.
docs:
    cargo doc --workspace --no-deps

# Benchmark the generation-job queue: throughput at 1/2/4 workers with and without webhooks,
# enqueue→WebSocket latency, every webhook delivered after a receiver outage (BENCH_OUTAGE_SECS=60);
# BENCH_ROUNDS (3) off/on pairs per worker count, BENCH_WORKERS (1,2,4).
bench-queue jobs="3000" samples="100":
    cargo run --release -p genonaut-tests --bin bench-queue -- {{jobs}} {{samples}}

# Benchmark the recommender at scale: full build time and memory, generate/read latency.
bench-recs users="10000" items="100000" interactions="1000000" samples="300":
    cargo run --release -p genonaut-tests --bin bench-recs -- {{users}} {{items}} {{interactions}} {{samples}}

# The API benchmark: our server against the kit's baseline in one run (20,000-item data set,
# fresh `bench` schema, auth and rate limits off), on the `release` build (the quick start's)
# and then on the `production` build (fat LTO). Prints throughput/p99 ratios and RSS of each.
bench:
    BENCH_PROFILE=release scripts/bench.sh
    BENCH_PROFILE=production scripts/bench.sh

# The API benchmark on the `production` build only (fat LTO, one codegen unit).
bench-production:
    BENCH_PROFILE=production scripts/bench.sh

# The production build: the release binary optimised with a profile of a training load
# (profile-guided optimisation; ~20 min on 2 cores) -> target/pgo/release/genonaut.
build-pgo:
    scripts/pgo.sh

# `just bench` on the production (PGO) build.
bench-pgo: build-pgo
    BENCH_BIN=target/pgo/release/genonaut scripts/bench.sh

# The same at scale: 1,000,000 items and 10,000,000 interactions (schema `bench_scale`, kept
# between runs because loading takes minutes; BENCH_RELOAD=1 reloads).
bench-scale:
    scripts/bench.sh scale

# The gallery at a million items: keyset ("load more") paging and its filters, server time p50/p99
# per listing (schema `bench_gallery`, kept between runs; BENCH_RELOAD=1 reseeds), release build.
bench-gallery:
    scripts/bench-gallery.sh

# Criterion benchmarks of hot pure code: recommender build and scoring, list-page serialisation.
bench-criterion:
    cargo bench -p genonaut-domain -p genonaut-http
