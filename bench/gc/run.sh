#!/usr/bin/env bash
# GC at scale: generate a registry on disk, then time `berth gc` (dry run, then a real run with
# --delete-untagged) and record wall time and peak RSS (GNU time). Not part of npm test.
#   bash bench/gc/run.sh [manifests=20000] [blobs=100000]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/berth-gc-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
node "$here/generate.mjs" "$work/data" "${1:-20000}" "${2:-100000}"
cat > "$work/config.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/data
YML
run() {
  local label=$1; shift
  /usr/bin/time -f "$label: %e s wall, %M KiB peak RSS" node "$root/bin/berth.js" gc --config "$work/config.yml" --grace 0s "$@" \
    | tail -1; echo
}
run "dry run" --dry-run
run "delete-untagged" --delete-untagged
run "second run (nothing left)"
