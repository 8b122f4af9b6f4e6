#!/usr/bin/env bash
# runtime-tests/autobahn/ci.sh -- the Autobahn|Testsuite conformance gate, called by .ci/run.
#
# Builds examples/autobahn_server.rs and examples/autobahn_client.rs in release mode, then,
# for each runtime (tokio, smol):
#   * `wstest -m fuzzingclient` against our echo SERVER  (all cases, "*")
#   * `wstest -m fuzzingserver` against our CLIENT       (all cases, "*")
# then the same two over TLS (wss://, test PKI from make-certs.sh) for each runtime in
# --tls-runtimes (default: tokio), and fails (exit 1) if any case FAILED, or if a
# permessage-deflate case (groups 12, 13) is anything but UNIMPLEMENTED (we do not
# negotiate compression).
#
# Usage: runtime-tests/autobahn/ci.sh [--quick] [--runtimes "tokio smol"] [--roles "server client"]
#                                     [--tls-runtimes "tokio"]
#   --quick         skip groups 9, 12 and 13 (local iteration only; CI runs everything)
#   --tls-runtimes  runtimes that also run both roles over TLS ("" for none)
# Env: AUTOBAHN_OUT (default <cargo target dir>/autobahn: target/autobahn, or under
#      CARGO_TARGET_DIR when that is set): one report directory per run, kept;
#      AUTOBAHN_PORT_BASE (default 9301): ports PORT_BASE.. are used, one per run;
#      PEERS_DEPS: where install.sh puts wstest (default ~/.cache/autobahn-deps).
# Needs: CPython 2.7 (pyenv 2.7.18 on the machine image) and PyPI for the first install.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

runtimes="tokio smol"
roles="server client"
tls_runtimes="tokio"
quick=()
while (($#)); do
  case "$1" in
    --quick) quick=(--quick) ;;
    --runtimes) runtimes="$2"; shift ;;
    --roles) roles="$2"; shift ;;
    --tls-runtimes) tls_runtimes="$2"; shift ;;
    *) echo "ci.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# Where cargo puts its builds: target/, or CARGO_TARGET_DIR (or a config's build.target-dir).
target="$(bash "$root/scripts/target-dir.sh")"
out="${AUTOBAHN_OUT:-$target/autobahn}"
port="${AUTOBAHN_PORT_BASE:-9301}"
export PEER_KEEP="${PEER_KEEP:-0}"      # the kit's temp dirs; reports go to $out
export AUTOBAHN_TIMEOUT="${AUTOBAHN_TIMEOUT:-900}"
t0=$SECONDS
log() { printf '[autobahn t+%ss] %s\n' "$((SECONDS - t0))" "$*"; }

log "install wstest (idempotent)"
"$here/install.sh" py3 py2 2>&1 | tail -n 3

log "build the examples (release)"
cargo build -q --release --example autobahn_server --example autobahn_client
server_bin="$target/release/examples/autobahn_server"
client_bin="$target/release/examples/autobahn_client"

py3="${PEERS_DEPS:-${XDG_CACHE_HOME:-$HOME/.cache}/autobahn-deps}/py3/bin/python"
rm -rf "$out"
mkdir -p "$out"
failed=()

# check_report DIR NAME: groups 12/13 must be UNIMPLEMENTED; prints one summary line.
check_report() {
  "$py3" - "$1/index.json" "$2" <<'EOF'
import collections, json, sys
path, name = sys.argv[1:]
data = json.load(open(path))
bad = 0
for agent, cases in sorted(data.items()):
    beh = collections.Counter(c["behavior"] for c in cases.values())
    wrong = sorted(cid for cid, c in cases.items()
                   if cid.split(".")[0] in ("12", "13") and c["behavior"] != "UNIMPLEMENTED")
    if wrong:
        bad = 1
        print("%s: %d permessage-deflate cases are not UNIMPLEMENTED: %s" % (name, len(wrong), " ".join(wrong[:20])))
    counts = " ".join("%s=%d" % (k, beh.get(k, 0)) for k in ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"))
    print("SUMMARY %-22s %-26s %d cases: %s" % (name, agent, len(cases), counts))
sys.exit(bad)
EOF
}

runs=()
for rt in $runtimes; do for role in $roles; do runs+=("$role:$rt:plain"); done; done
for rt in $tls_runtimes; do for role in $roles; do runs+=("$role:$rt:tls"); done; done
if [[ -n "$tls_runtimes" ]]; then "$here/make-certs.sh" "$out/certs" >/dev/null; fi

summaries=()
for run in "${runs[@]}"; do
  IFS=: read -r role rt sec <<<"$run"
  name="$role-$rt"
  tls=() server_tls=() client_tls=() ca=""
  if [[ "$sec" == tls ]]; then
    name="$role-tls-$rt"
    tls=(--tls)
    server_tls=(--tls-cert "$out/certs/server-chain.pem" --tls-key "$out/certs/server.key")
    client_tls=(--certs "$out/certs")
    ca="$out/certs/ca.pem"
  fi
  dir="$out/$name"
  mkdir -p "$dir"
  log "$name: start (port $port)"
  s=$SECONDS
  rc=0
  if [[ "$role" == server ]]; then
    # fuzzingclient tests our server.
    "$here/autobahn-fuzzingclient.sh" "$port" "${quick[@]+"${quick[@]}"}" "${tls[@]+"${tls[@]}"}" \
      --agent "nexus-async-net-$name" --outdir "$dir" -- \
      "$server_bin" --port "$port" --runtime "$rt" "${server_tls[@]+"${server_tls[@]}"}" \
      >"$dir/run.log" 2>&1 || rc=$?
  else
    # fuzzingserver tests our client (it reads AUTOBAHN_URL, and AUTOBAHN_CA over TLS).
    AUTOBAHN_CA="$ca" \
      "$here/autobahn-fuzzingserver.sh" "$port" "${quick[@]+"${quick[@]}"}" "${tls[@]+"${tls[@]}"}" \
      "${client_tls[@]+"${client_tls[@]}"}" --outdir "$dir" -- \
      "$client_bin" --runtime "$rt" --agent "nexus-async-net-$name" \
      >"$dir/run.log" 2>&1 || rc=$?
  fi
  port=$((port + 1))
  grep -E '^(agent|  )' "$dir/run.log" || true
  if [[ ! -e "$dir/index.json" ]]; then
    log "$name: NO REPORT (exit $rc); log tail:"
    tail -n 30 "$dir/run.log"
    failed+=("$name")
    continue
  fi
  line="$(check_report "$dir" "$name")" || rc=1
  summaries+=("$line")
  log "$name: done in $((SECONDS - s)) s, exit $rc"
  ((rc == 0)) || failed+=("$name")
done

echo
printf '%s\n' "${summaries[@]+"${summaries[@]}"}"
echo "reports: $out/*/index.html"
if ((${#failed[@]})); then
  echo "AUTOBAHN FAILED: ${failed[*]}" >&2
  exit 1
fi
log "all runs: 0 FAILED"
# One closing line over every case of every run: OK, NON-STRICT and INFORMATIONAL count as
# passed, UNIMPLEMENTED (permessage-deflate) as skipped.
"$py3" - "$out" <<'EOF'
import collections, glob, json, os, sys
beh = collections.Counter()
for path in glob.glob(os.path.join(sys.argv[1], "*", "index.json")):
    for cases in json.load(open(path)).values():
        beh.update(c["behavior"] for c in cases.values())
passed = beh["OK"] + beh["NON-STRICT"] + beh["INFORMATIONAL"]
print("autobahn: %d passed, %d failed, %d skipped" % (passed, beh["FAILED"], beh["UNIMPLEMENTED"]))
EOF
