#!/usr/bin/env bash
# Runs test suites (default: unit api e2e) on Node 24 from the npm registry's `node` package,
# beside the machine's Node, so that CI proves both runtimes. The build (dist/) is the same
# JavaScript and node_modules the same install: the one native addon the server loads is
# better-sqlite3, and on Node 22+ Berth loads its version 13 (`better-sqlite3-node22`), a
# Node-API addon prebuilt in its package, so nothing is compiled for the second runtime.
#
#   bash scripts/test-node24.sh              # unit api e2e
#   bash scripts/test-node24.sh unit         # some suites only
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${BERTH_NODE24_VERSION:-24}"
CACHE="$ROOT/.cache/node$VERSION"
log() { printf '[node%s] %s\n' "$VERSION" "$*" >&2; }

if [ ! -x "$CACHE/node_modules/node/bin/node" ]; then
  log "installing node@$VERSION from the npm registry into $CACHE"
  mkdir -p "$CACHE"
  npm install --no-audit --no-fund --no-save --prefix "$CACHE" "node@$VERSION" >/dev/null
fi
NODE="$CACHE/node_modules/node/bin/node"
log "runtime $("$NODE" --version)"
[ -f "$ROOT/dist/src/cli/main.js" ] || (cd "$ROOT" && npm run build >/dev/null)

# Child processes the tests start (berth serve, the CLI) run on the same runtime.
export PATH="$(dirname "$NODE"):$PATH"
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit api e2e)
log "node scripts/run-tests.mjs ${suites[*]}"
"$NODE" "$ROOT/scripts/run-tests.mjs" "${suites[@]}"
