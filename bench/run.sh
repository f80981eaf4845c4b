#!/usr/bin/env bash
# bench/run.sh - Berth vs Debian's docker-registry (CNCF Distribution 2.8.2), side by side,
# same machine, same workloads, fresh storage, both on 127.0.0.1. See bench/README.md.
#
#   bash bench/run.sh                 # the full matrix (~8 minutes on an idle machine)
#   BENCH_QUICK=1 bash bench/run.sh   # a smoke run (smaller sizes, 1 run each), to check the harness
#   BENCH_PROFILE=1 bash bench/run.sh # also writes a V8 CPU profile of Berth (bench/out/prof/)
#   BENCH_ONLY=pull-1g,manifest bash bench/run.sh  # only workloads whose id contains a word
#                                     # (ids: manifest-get-1, push-100m-chunked-8, catalog, ...)
#
# Servers are pinned to core BENCH_SERVER_CPU (default 1), the load generator (wrk and the Node
# driver) to BENCH_CLIENT_CPU (default 0). Results go to stdout and bench/out/.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# --- dependencies: wrk (Debian package), docker-registry, taskset ----------------------------
need_pkgs() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]} (run as root, or apt-get install them)"
  export DEBIAN_FRONTEND=noninteractive
  log "apt-get install ${missing[*]}"
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
  fi
}
command -v wrk >/dev/null || need_pkgs wrk
command -v docker-registry >/dev/null || need_pkgs docker-registry
command -v taskset >/dev/null || need_pkgs util-linux
command -v curl >/dev/null || need_pkgs curl
command -v node >/dev/null || die "node (>= 20) is needed"

# --- Berth must be built (npm run bench builds first; a direct run builds if dist/ is missing) ---
[ -f "$ROOT/dist/src/cli/main.js" ] || (cd "$ROOT" && npm run build >/dev/null)

CPUS=$(nproc)
export BENCH_SERVER_CPU=${BENCH_SERVER_CPU:-1}
export BENCH_CLIENT_CPU=${BENCH_CLIENT_CPU:-0}
if [ "$CPUS" -lt 2 ]; then
  log "WARNING: only $CPUS CPU(s): server and load generator cannot be pinned apart; results are not comparable"
  BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=0
fi

WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
export BENCH_WORK=$WORK
export BENCH_OUT=${BENCH_OUT:-$HERE/out}
mkdir -p "$BENCH_OUT"

# The driver kills the servers it started; this trap is the safety net (pids it recorded, only).
DRIVER_PID=
cleanup() {
  local rc=$?
  set +e
  if [ -n "$DRIVER_PID" ]; then kill "$DRIVER_PID" 2>/dev/null; wait "$DRIVER_PID" 2>/dev/null; fi
  if [ -f "$WORK/pids" ]; then
    while read -r pid; do
      [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done <"$WORK/pids"
    sleep 0.5
    while read -r pid; do
      [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    done <"$WORK/pids"
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "work dir $WORK; server on CPU $BENCH_SERVER_CPU, load generator on CPU $BENCH_CLIENT_CPU"
taskset -c "$BENCH_CLIENT_CPU" node "$HERE/bench.mjs" &
DRIVER_PID=$!
rc=0
wait "$DRIVER_PID" || rc=$?
DRIVER_PID=
if [ "$rc" = 0 ] && [ "${BENCH_PROFILE:-}" = 1 ]; then
  prof=$(ls -t "$BENCH_OUT"/prof/*.cpuprofile 2>/dev/null | head -1 || true)
  if [ -n "$prof" ]; then
    node "$HERE/prof-summary.mjs" "$prof" 30 | tee "$BENCH_OUT/profile-summary.txt"
    log "Berth CPU profile: $prof (open in Chrome DevTools > Performance), summary in $BENCH_OUT/profile-summary.txt"
  fi
fi
exit $rc
