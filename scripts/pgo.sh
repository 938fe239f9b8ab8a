#!/usr/bin/env bash
# The production build: profile-guided optimisation (PGO) of the release binary.
#
#   scripts/pgo.sh            -> target/pgo/release/genonaut
#
# Builds with the `production` profile (Cargo.toml: fat LTO, one codegen unit), not `release`.
# 1. builds an instrumented production binary (target/pgo-instrumented),
# 2. runs it with scripts/pgo-train.sh: a fresh schema (dropped afterwards) with the demo data set
#    and a training load, many requests on the hot routes (health, content by id, content list,
#    a user's recommendations, recording an interaction) and some on every other area,
# 3. merges the profile with llvm-profdata (rustup's llvm-tools component, installed if missing),
# 4. builds the release binary again with that profile (target/pgo).
# Each build links the whole program with LTO: ~20 min in all on 2 cores. Why: under load the
# plain build spends a third more CPU than it needs on instruction-cache and TLB misses (16 MB
# of code; the request path crosses many crates); with the profile, LLVM lays hot code out
# together and inlines by measured frequency (docs/performance.md has the figures).
#
# Needs PostgreSQL (DATABASE_URL's server; default postgres://postgres@127.0.0.1:5432/genonaut)
# and curl (scripts/pgo-train.sh). Knobs: PGO_PORT (8079), PGO_REQUESTS (hot requests per route, 4000).
set -euo pipefail
cd "$(dirname "$0")/.."

url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/genonaut}
port=${PGO_PORT:-8079}
n=${PGO_REQUESTS:-4000}
data=$PWD/target/pgo-data

host=$(rustc -vV | sed -n 's/^host: //p')
profdata=$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata
if [ ! -x "$profdata" ]; then
  rustup component add llvm-tools
fi

# `--target` keeps RUSTFLAGS off build scripts and proc-macros, which would otherwise be
# instrumented too and add their own profiles to the server's.
echo "pgo: 1/4 instrumented build"
rm -rf "$data" && mkdir -p "$data/raw"
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$data/raw" CARGO_TARGET_DIR=target/pgo-instrumented \
  cargo build --profile production --locked -p genonaut --target "$host"

echo "pgo: 2/4 training run"
DATABASE_URL=$url PGO_PORT=$port scripts/pgo-train.sh "target/pgo-instrumented/$host/production/genonaut" "$n"
ls "$data"/raw/*.profraw >/dev/null

echo "pgo: 3/4 merging the profile"
"$profdata" merge -o "$data/genonaut.profdata" "$data/raw"

echo "pgo: 4/4 optimised build"
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$data/genonaut.profdata" CARGO_TARGET_DIR=target/pgo \
  cargo build --profile production --locked -p genonaut --target "$host"
mkdir -p target/pgo/release
cp -f "target/pgo/$host/production/genonaut" target/pgo/release/genonaut
echo "pgo: built target/pgo/release/genonaut"
