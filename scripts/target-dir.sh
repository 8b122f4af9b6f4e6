#!/usr/bin/env bash
# scripts/target-dir.sh [DIR] -- prints cargo's target dir for the cargo project in DIR
# (default: the current directory): <workspace>/target, or CARGO_TARGET_DIR (or a config's
# build.target-dir) when set, possibly outside the clone. Asks cargo; reads its JSON with
# python3 (jq may be missing on CI).
set -euo pipefail
cd "${1:-.}"
cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys;print(json.load(sys.stdin)["target_directory"])'
