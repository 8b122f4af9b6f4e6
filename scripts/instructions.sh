#!/usr/bin/env bash
# scripts/instructions.sh -- instructions (Ir) per message on the client thread, under callgrind.
#
# Usage: scripts/instructions.sh [CHECKOUT]     (default: the checkout this script is in)
#
# Builds benches/ of CHECKOUT in release (into $CARGO_TARGET_DIR if set, else benches/'s own
# target dir: whatever `cargo metadata` says) and runs the `report` binary once per case under
# `valgrind --tool=callgrind --separate-threads=yes` (docs/performance.md, "callgrind").
# Prints one line per case: the case, the messages the client handled, Ir per message.
# The client is the thread with the most Ir (it is, in every case here: the servers do less
# per message). Counts are deterministic to a few Ir; echo and REST include the client's
# connection setup spread over its messages (the same in every checkout).
# Env: SCALE (default 0.05) message counts times SCALE, as `report --scale`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
checkout="$(cd "${1:-$here}" && pwd)"
scale="${SCALE:-0.05}"
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind missing" >&2; exit 2; }

cd "$checkout/benches"
target="$(bash "$here/scripts/target-dir.sh")"
echo "[instructions] building $checkout/benches (target dir $target)" >&2
cargo build -q --release --bin report
report="$target/release/report"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# scaled(n) as in benches/src/main.rs: max(100, floor(n * scale)).
scaled() { python3 -c "import sys;print(max(100,int($1*float(sys.argv[1]))))" "$scale"; }

# name | group | case | lib | messages the client handles
rest_total="$(scaled 30000)"
cases=(
  "recv 40 B binary|recv|40 B binary|ours-tokio|$(scaled 4000000)"
  "recv 40 B text|recv|40 B text|ours-tokio|$(scaled 4000000)"
  "recv 512 B binary|recv|512 B binary|ours-tokio|$(scaled 1000000)"
  "echo 64 B binary|echo|64 B binary|ours-tokio|$(($(scaled 20000) + $(scaled 2000)))"
  "rest 1 connection|rest|1 connection|rest-ours|$((rest_total + rest_total / 10))"
)

for c in "${cases[@]}"; do
  IFS='|' read -r name group case lib msgs <<<"$c"
  rm -f "$work"/callgrind.out.*
  (cd "$work" && valgrind -q --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$work/callgrind.out.%p" \
    "$report" --groups "$group" --cases "$case" --libs "$lib" \
    --scale "$scale" --runs 1 --out - >"$work/report.md" 2>"$work/valgrind.log") || {
    echo "instructions.sh: $name failed:" >&2
    tail -20 "$work/valgrind.log" >&2
    exit 1
  }
  python3 - "$name" "$msgs" "$work"/callgrind.out.* <<'PY'
import re, sys
name, msgs, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
best = None
for f in files:
    with open(f, errors="replace") as fh:
        m = re.search(r"^(?:summary|totals):\s+(\d+)", fh.read(), re.M)
    if m and (best is None or int(m.group(1)) > best):
        best = int(m.group(1))
if best is None:
    sys.exit(f"instructions.sh: no callgrind totals for {name}")
print(f"{name:<20} {msgs:>8} msgs {best / msgs:>10.0f} Ir/msg")
PY
done
