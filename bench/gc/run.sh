#!/usr/bin/env bash
# GC at scale: generate a registry on disk, then time `berth gc` (dry run, then a real run with
# --delete-untagged) and record wall time and peak RSS (GNU time). Not part of npm test.
#   bash bench/gc/run.sh [manifests=20000] [blobs=100000]
#   BENCH_GC_MODE=walk (default: the walking collector's three runs) | review (index rebuild,
#   reconciler pass, review of one deleted image, PUT cost) | both (walking dry run, then review)
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
# The walking collector (what issue 20 replaces), then the collector over the metadata database.
mode=${BENCH_GC_MODE:-walk}
if [ "$mode" = walk ] || [ "$mode" = both ]; then
  run "dry run" --dry-run
  [ "$mode" = both ] || { run "delete-untagged" --delete-untagged; run "second run (nothing left)"; }
fi
if [ "$mode" = review ] || [ "$mode" = both ]; then
  /usr/bin/time -f "index rebuild (imports references): %e s wall, %M KiB peak RSS" node "$root/bin/berth.js" index rebuild --config "$work/config.yml" | tail -1
  /usr/bin/time -f "reconcile (report only): %e s wall, %M KiB peak RSS" node "$root/bin/berth.js" gc --reconcile --dry-run --config "$work/config.yml" | tail -1
  node "$here/review.mjs" "$work/data" "$work/data/berth/meta.sqlite"
fi
