#!/usr/bin/env bash
# Installs the real proxies the proxy tests start: tinyproxy (HTTP CONNECT) and microsocks
# (SOCKS5), from Debian's packages. Does nothing when both are present. The tests start
# them on loopback ports of their own and kill them by PID when done; no daemon is left
# running (policy-rc.d keeps the packages from starting theirs).
set -euo pipefail
sudo=""
if [[ $EUID -ne 0 ]]; then sudo="sudo"; fi
if ! command -v tinyproxy >/dev/null || ! command -v microsocks >/dev/null; then
  # policy-rc.d: the packages must not start their own daemons (tinyproxy on :8888).
  made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tinyproxy microsocks
  if ((made_policy)); then $sudo rm -f /usr/sbin/policy-rc.d; fi
fi
tinyproxy -v 2>&1 | head -n 1 || true
command -v microsocks
