#!/usr/bin/env bash
# scripts/fuzz.sh -- run every cargo-fuzz target in fuzz/ for a bounded time (docs/fuzzing.md).
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 60; each target runs that long (libFuzzer -max_total_time)
#   TARGET...           default: every target (cargo fuzz list)
# Env: FUZZ_JOBS (default 1) parallel libFuzzer workers per target;
#      FUZZ_ARGS extra libFuzzer flags.
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain; without
# `rustup toolchain nightly` it falls back to RUSTC_BOOTSTRAP=1 on stable.
# The working corpus is fuzz/corpus/<target> (not committed; grows across runs), seeded from
# fuzz/seeds/<target> (committed, written by fuzz/seeds.py). Crashes land in
# fuzz/artifacts/<target>/; the script then exits 1 and prints the reproduction command.
# Prints one line per target: executions, executions per second, corpus size. Logs go to
# <cargo target dir>/fuzz-logs (target/, or CARGO_TARGET_DIR when that is set).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
secs="${1:-60}"
shift || true
command -v cargo-fuzz >/dev/null || { echo "fuzz.sh: cargo-fuzz missing: cargo install cargo-fuzz" >&2; exit 2; }
if rustup run nightly rustc --version >/dev/null 2>&1; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
[[ -d fuzz/seeds ]] || python3 fuzz/seeds.py
if (($#)); then targets=("$@"); else mapfile -t targets < <("${fuzz[@]}" list); fi

echo "[fuzz] building the targets (${fuzz[*]})"
"${fuzz[@]}" build -O 2>&1 | grep -E '^(error|warning)' -A5 || true
jobs=()
if ((${FUZZ_JOBS:-1} > 1)); then jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi
target="$(bash scripts/target-dir.sh)"
mkdir -p "$target/fuzz-logs"
rc=0
summary=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  log="$target/fuzz-logs/$t.log"
  echo "[fuzz] $t for ${secs}s (log $log)"
  # -malloc_limit_mb: any single allocation over 64 MiB is a finding (every target's limits
  # are far below it: a decoder that trusted a header's length would trip it).
  if ! "${fuzz[@]}" run -O "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
      -max_total_time="$secs" -malloc_limit_mb=64 -rss_limit_mb=2048 -timeout=10 \
      "${jobs[@]+"${jobs[@]}"}" -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1; then
    rc=1
    echo "[fuzz] $t: CRASH" >&2
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -8 >&2
    summary+=("$(printf '%-20s CRASH (see %s)' "$t" "$log")")
    continue
  fi
  # With FUZZ_JOBS > 1 every worker logs to fuzz-N.log in the current directory.
  logs=("$log")
  for f in fuzz-*.log; do [[ -e "$f" ]] && logs+=("$f"); done
  execs="$(cat "${logs[@]}" | awk '/stat::number_of_executed_units/ {s+=$2} END {print s+0}')"
  rate="$(cat "${logs[@]}" | awk '/stat::average_exec_per_sec/ {s+=$2} END {print s+0}')"
  corpus="$(find "fuzz/corpus/$t" -type f | wc -l)"
  if ((${#logs[@]} > 1)); then cat "${logs[@]:1}" >>"$log"; rm -f "${logs[@]:1}"; fi
  summary+=("$(printf '%-20s %12s execs  %8s exec/s  corpus %5s  %ss  no crash' "$t" "$execs" "$rate" "$corpus" "$secs")")
done
printf '%s\n' "${summary[@]}"
exit "$rc"
