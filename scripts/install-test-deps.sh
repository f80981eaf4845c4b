#!/usr/bin/env bash
# Installs the Debian packages the test suite drives. Each feature keeps its own list in
# scripts/test-deps/*.list (one package per line, # comments), so adding a feature's client or
# server never touches another's. Idempotent; needs root to install (CI and the dev machines run
# as root). Package scripts are kept from starting system daemons: tests start their own on
# 127.0.0.1.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/test-deps"
mapfile -t PKGS < <(cat "$dir"/*.list | sed -e 's/#.*//' -e 's/[[:space:]]//g' | grep -v '^$' | sort -u)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-test-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
fi
trap '[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
echo "install-test-deps: apt-get install ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Some packages enable a system service; the tests run their own instances.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  for svc in docker-registry docker containerd nginx postgresql redis-server; do
    systemctl disable --now "$svc" 2>/dev/null || true
  done
fi
