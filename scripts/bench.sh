#!/usr/bin/env bash
# Regenerates docs/performance.md (tables + PNG plots) from one benchmark run.
#   scripts/bench.sh                  # full run: 7 runs per case, medians (about 8 min on 2 cores)
#   scripts/bench.sh --runs 1 --scale 0.1 --out -   # smoke test, prints the markdown
# Options are passed to the `report` binary (benches/src/main.rs); --help lists them.
# The benches project is a workspace of its own: the library's CI never builds the peers.
set -euo pipefail
cd "$(dirname "$0")/../benches"
cargo build --release --bin report
# benches/target, or CARGO_TARGET_DIR (or a config's build.target-dir) when set.
target="$(bash ../scripts/target-dir.sh)"
exec "$target/release/report" "$@"
