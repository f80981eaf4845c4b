#!/usr/bin/env bash
# Builds Berth's container image from this checkout as an OCI archive (podman load, skopeo copy
# oci-archive:, docker via a registry) without any image registry: no base image is pulled.
# The root filesystem is assembled here:
#   - Node's runtime from the npm registry's `node` package (the same cache scripts/test-node24.sh
#     uses, so CI downloads it once), stripped of its symbols;
#   - the C libraries Node links, taken from this machine's Debian packages (libc6, libstdc++6,
#     libgcc-s1) and tini (Debian's tini-static) as PID 1, which forwards SIGTERM and reaps;
#   - Berth's compiled dist/src and its production dependencies (npm ci --omit=dev from the
#     lock file), without type declarations, source maps, other platforms' prebuilt addons and
#     the better-sqlite3 line only Node 20 needs.
# buildah writes it (`from scratch`, its own storage in a temp dir, nothing left behind).
#
#   scripts/build-image.sh OUT.tar            # needs `npm run build` done; root (buildah, chroot)
#   BERTH_IMAGE_NODE=22 scripts/build-image.sh OUT.tar
#
# Prints the image's uncompressed size (the sum of its layers) last. The image runs as uid 65532,
# works with a read-only root filesystem, keeps its data in the volume /var/lib/berth, reads
# /etc/berth/config.yml (registry:2's defaults) and REGISTRY_* variables, listens on :5000.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:?usage: build-image.sh OUT.tar}"
OUT="$(realpath -m "$OUT")"
NODE_MAJOR="${BERTH_IMAGE_NODE:-24}"
TAG="${BERTH_IMAGE_TAG:-localhost/berth:latest}"
log() { printf "[build-image %ss] %s\n" "$SECONDS" "$*" >&2; }

[ -f "$ROOT/dist/src/cli/main.js" ] || { log "no dist/src: run npm run build first"; exit 1; }
for tool in buildah strip chroot dpkg-query tar; do
  command -v "$tool" >/dev/null || { log "missing $tool (scripts/test-deps/deploy.list)"; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/berth-image-XXXXXX")"
STORAGE=(--root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs)
cleanup() {
  [ -n "${CTR:-}" ] && buildah "${STORAGE[@]}" rm "$CTR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
RFS="$WORK/rootfs"
mkdir -p "$RFS"/{app,etc/berth,usr/local/bin,usr/bin,var/lib/berth,tmp}

# 1. Node's runtime from the npm registry.
CACHE="$ROOT/.cache/node$NODE_MAJOR"
if [ ! -x "$CACHE/node_modules/node/bin/node" ]; then
  log "installing node@$NODE_MAJOR from the npm registry into $CACHE"
  mkdir -p "$CACHE"
  npm install --no-audit --no-fund --no-save --prefix "$CACHE" "node@$NODE_MAJOR" >/dev/null
fi
NODE_BIN="$(realpath "$CACHE/node_modules/node/bin/node")"
strip -o "$RFS/usr/local/bin/node" "$NODE_BIN"
log "node $("$NODE_BIN" --version), $(stat -c %s "$RFS/usr/local/bin/node") bytes stripped"

# 2. The libraries it links, from the Debian packages that own them here.
packages=()
while read -r lib; do
  [ -n "$lib" ] || continue
  real="$(realpath "$lib")"
  owner="$(dpkg-query -S "$real" 2>/dev/null | head -1 | cut -d: -f1)" || true
  [ -n "$owner" ] || owner="$(dpkg-query -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)" || true
  [ -n "$owner" ] || { log "$lib belongs to no Debian package"; exit 1; }
  packages+=("$owner")
  mkdir -p "$RFS$(dirname "$lib")"
  cp -L "$lib" "$RFS$lib"
done < <(ldd "$NODE_BIN" | awk '/=>/ { print $3 } /ld-linux/ && !/=>/ { print $1 }')
mkdir -p "$RFS/lib64" "$RFS/usr/lib"
[ -e "$RFS/lib64/ld-linux-x86-64.so.2" ] || { log "the dynamic loader was not copied"; exit 1; }
cp /usr/bin/tini-static "$RFS/usr/bin/tini"
packages+=("$(dpkg-query -S /usr/bin/tini-static | cut -d: -f1)")
DEBS="$(printf '%s\n' "${packages[@]}" | sort -u | while read -r p; do printf '%s=%s ' "$p" "$(dpkg-query -W -f='${Version}' "$p")"; done)"
log "from Debian: $DEBS"

# 3. Users: the registry runs as berth (65532), never root.
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nberth:x:65532:65532:Berth registry:/var/lib/berth:/usr/sbin/nologin\n' >"$RFS/etc/passwd"
printf 'root:x:0:\nberth:x:65532:\n' >"$RFS/etc/group"
chmod 1777 "$RFS/tmp"
ldconfig -r "$RFS" 2>/dev/null || true
chown 65532:65532 "$RFS/var/lib/berth"

# 4. Berth: compiled JavaScript and production dependencies from the lock file.
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$RFS/app/"
mkdir -p "$RFS/app/bin" "$RFS/app/dist"
cp "$ROOT/bin/berth.js" "$RFS/app/bin/"
# dist/vendor holds the bundled kysely and TypeBox that dist/src imports (scripts/vendor-bundles.mjs).
DIST_DIRS=src; [ -d "$ROOT/dist/vendor" ] && DIST_DIRS="src vendor"
(cd "$ROOT/dist" && find $DIST_DIRS -type f ! -name '*.d.ts' ! -name '*.map' -print0 | tar --null -cf - -T -) | tar -xf - -C "$RFS/app/dist"
(cd "$RFS/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline >/dev/null 2>"$WORK/npm.log") \
  || { cat "$WORK/npm.log" >&2; exit 1; }
NM="$RFS/app/node_modules"
# The Node 20 line of better-sqlite3 (compiled at install time) has no use on Node 22+.
[ "$NODE_MAJOR" -ge 22 ] && rm -rf "$NM/better-sqlite3"
rm -rf "$NM/better-sqlite3-node22/deps" "$NM/better-sqlite3-node22/src"
find "$NM/better-sqlite3-node22/prebuilds" -name '*.node' ! -name 'linux-x64.node' -delete
# Bare's (not Node's) prebuilt addons, declarations, maps, docs and tests are never loaded.
find "$NM" -type f \( -name '*.bare' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
  -o -name '*.md' -o -name '*.markdown' \) -delete
find "$NM" -type d \( -name dist-types -o -name test -o -name tests -o -name __tests__ -o -name docs \
  -o -name example -o -name examples -o -name .github \) -prune -exec rm -rf {} +
rm -f "$RFS/app/package-lock.json"
cp "$ROOT/deploy/image/config.yml" "$RFS/etc/berth/config.yml"
cp "$ROOT/deploy/image/healthcheck.mjs" "$RFS/app/healthcheck.mjs"

log "berth and its production dependencies: $(du -sb --apparent-size "$RFS/app" | cut -f1) bytes"
# 5. Proof before packing: the runtime loads every production dependency inside the rootfs.
# (A file in /app, so that imports resolve from /app/node_modules.)
cat >"$RFS/app/image-check.mjs" <<'EOF_CHECK'
import { readFileSync } from 'node:fs';
const deps = Object.keys(JSON.parse(readFileSync('/app/package.json', 'utf8')).dependencies);
const node22 = Number(process.versions.node.split('.')[0]) >= 22;
for (const d of deps) if (!(d === 'better-sqlite3' && node22)) await import(d);
const Sqlite = (await import(node22 ? 'better-sqlite3-node22' : 'better-sqlite3')).default;
new Sqlite(':memory:').prepare('select 1').get();
EOF_CHECK
env -i PATH=/usr/sbin:/usr/bin:/bin chroot "$RFS" /usr/local/bin/node /app/image-check.mjs
rm "$RFS/app/image-check.mjs"
env -i PATH=/usr/sbin:/usr/bin:/bin chroot "$RFS" /usr/local/bin/node /app/bin/berth.js config verify /etc/berth/config.yml >/dev/null

log "checked: every dependency loads in the rootfs"
# 6. The image.
B=(buildah "${STORAGE[@]}")
CTR="$("${B[@]}" from --quiet scratch)"
# One layer from a tar of the rootfs, so that ownership is the tar's (buildah copy makes every
# file root's): the volume's mount point is berth's, so a new volume starts writable by it.
tar --numeric-owner -C "$RFS" -cf "$WORK/rootfs.tar" .
"${B[@]}" add --quiet "$CTR" "$WORK/rootfs.tar" / >/dev/null
REVISION="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
VERSION="$(node -p "require('$ROOT/package.json').version")"
"${B[@]}" config \
  --user 65532:65532 --workingdir /var/lib/berth \
  --env PATH=/usr/local/bin:/usr/bin:/bin --env NODE_ENV=production \
  --entrypoint '["/usr/bin/tini","--","/usr/local/bin/node","/app/bin/berth.js","serve"]' \
  --cmd '["/etc/berth/config.yml"]' \
  --port 5000/tcp --volume /var/lib/berth --stop-signal SIGTERM \
  --label "org.opencontainers.image.title=Berth" \
  --label "org.opencontainers.image.description=OCI Distribution registry (CNCF Distribution compatible)" \
  --label "org.opencontainers.image.version=$VERSION" \
  --label "org.opencontainers.image.revision=$REVISION" \
  --label "org.opencontainers.image.licenses=Apache-2.0" \
  --label "dev.berth.healthcheck=/usr/local/bin/node /app/healthcheck.mjs" \
  --label "dev.berth.debian-packages=$DEBS" \
  "$CTR"
mkdir -p "$(dirname "$OUT")"; rm -f "$OUT"
"${B[@]}" commit --quiet --format oci --disable-compression=false --rm "$CTR" "oci-archive:$OUT:$TAG" >/dev/null
CTR=""
SIZE="$(du -sb --apparent-size "$RFS" | cut -f1)"
log "wrote $OUT ($TAG): $(stat -c %s "$OUT") bytes archived, $SIZE bytes uncompressed root filesystem"
echo "$SIZE"
