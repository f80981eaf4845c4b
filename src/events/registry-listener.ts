// A decorator around the registry services: every successful push, pull, mount and delete is
// reported to listeners (notifications, metrics), so no handler carries event code. The services
// keep their own types; the decorated ones are proxies that intercept a handful of methods.
import type { Registry } from '../registry/registry.js';
import type { BlobStore } from '../registry/blob-store.js';
import type { ManifestStore, ManifestReference } from '../registry/manifest-store.js';
import type { UploadService } from '../registry/upload-service.js';
import type { RequestInfo, RequestScope } from './request-scope.js';
import { decorate } from '../registry/decorate.js';

// 'unverified': content trust served or refused an image without an accepted signature (src/trust).
export type RegistryAction = 'push' | 'pull' | 'mount' | 'delete' | 'unverified';

/** Distribution's media type for a blob target. */
export const BLOB_MEDIA_TYPE = 'application/octet-stream';

export interface RegistryEvent {
  action: RegistryAction;
  kind: 'blob' | 'manifest' | 'tag';
  repository: string;
  /** Absent for a tag deletion. */
  digest?: string;
  size?: number;
  mediaType?: string;
  tag?: string;
  /** Source repository of a mount. */
  fromRepository?: string;
  /** Whether a push or mount made a new link (a blob or manifest the repository lacked). */
  newLink?: boolean;
  request: RequestInfo | undefined;
  timestamp: Date;
}

export interface RegistryListener {
  /** Awaited before the request answers, so a queued notification is durable by then. */
  event?(e: RegistryEvent): void | Promise<void>;
  uploadStarted?(repository: string, id: string): void;
  uploadEnded?(id: string): void;
  received?(kind: 'blob' | 'manifest', bytes: number): void;
}

export function withListeners(registry: Registry, scope: RequestScope, listeners: RegistryListener[]): Registry {
  const emit = async (e: Omit<RegistryEvent, 'request' | 'timestamp'>): Promise<void> => {
    const full: RegistryEvent = { ...e, request: scope.current(), timestamp: new Date() };
    await Promise.all(listeners.map((l) => l.event?.(full)));
  };
  const each = <K extends keyof RegistryListener>(key: K, ...args: Parameters<NonNullable<RegistryListener[K]>>) => {
    for (const l of listeners) (l[key] as ((...a: unknown[]) => void) | undefined)?.call(l, ...args);
  };
  const blobs = registry.blobs;
  const counted = (body: AsyncIterable<Uint8Array>) => countBytes(body, (n) => each('received', 'blob', n));

  const uploads = decorate<UploadService>(registry.uploads, {
    async start(name: string) {
      const id = await registry.uploads.start(name);
      each('uploadStarted', name, id);
      return id;
    },
    append(name, id, body, options) {
      return registry.uploads.append(name, id, counted(body), options);
    },
    async complete(name, id, digest, body, options) {
      const linked = await blobs.isLinked(name, digest);
      const size = await registry.uploads.complete(name, id, digest, body && counted(body), options);
      each('uploadEnded', id);
      await emit({ action: 'push', kind: 'blob', repository: name, digest: digest.value, size, mediaType: BLOB_MEDIA_TYPE, newLink: !linked });
      return size;
    },
    async cancel(name, id) {
      await registry.uploads.cancel(name, id);
      each('uploadEnded', id);
    },
    async purgeOlderThan(name, cutoff, dryRun) {
      const ids = await registry.uploads.purgeOlderThan(name, cutoff, dryRun);
      if (!dryRun) for (const id of ids) each('uploadEnded', id);
      return ids;
    },
  });

  const decoratedBlobs = decorate<BlobStore>(blobs, {
    async open(name, digest, range, signal, known) {
      const stream = await blobs.open(name, digest, range, signal, known);
      const size = known ?? await blobs.size(digest) ?? 0;
      await emit({ action: 'pull', kind: 'blob', repository: name, digest: digest.value, size, mediaType: BLOB_MEDIA_TYPE });
      return stream;
    },
    // Called by the HTTP layer only for a cross-repository mount.
    async link(name, digest, pushed) {
      const linked = await blobs.isLinked(name, digest);
      await blobs.link(name, digest, pushed);
      const from = mountSource(scope.current());
      await emit({
        action: 'mount', kind: 'blob', repository: name, digest: digest.value, size: await blobs.size(digest) ?? 0,
        mediaType: BLOB_MEDIA_TYPE, newLink: !linked, ...(from ? { fromRepository: from } : {}),
      });
    },
    async unlink(name, digest) {
      const size = await blobs.size(digest);
      await blobs.unlink(name, digest);
      await emit({ action: 'delete', kind: 'blob', repository: name, digest: digest.value, size: size ?? 0, mediaType: BLOB_MEDIA_TYPE });
    },
  });

  const manifests = registry.manifests;
  const decoratedManifests = decorate<ManifestStore>(manifests, {
    async get(name, ref) {
      const stored = await manifests.get(name, ref);
      // A HEAD is a pull too, as in Distribution 2.8 (its HEAD handler fetches the manifest
      // through the same listener); the event's request.method says which it was.
      await emit({ action: 'pull', kind: 'manifest', repository: name, digest: stored.digest.value, size: stored.content.length, mediaType: stored.mediaType, ...tagOf(ref) });
      return stored;
    },
    // The store reports what it digested and parsed: nothing here reads the manifest again.
    async put(name, ref, content, contentType) {
      each('received', 'manifest', content.length);
      const result = await manifests.put(name, ref, content, contentType);
      await emit({
        action: 'push', kind: 'manifest', repository: name, digest: result.digest.value, size: result.size,
        mediaType: result.mediaType, newLink: result.newLink, ...tagOf(ref),
      });
      return result;
    },
    async delete(name, ref) {
      const digest = 'digest' in ref ? ref.digest : undefined;
      const size = digest ? await blobs.size(digest) : undefined;
      await manifests.delete(name, ref);
      if (digest) await emit({ action: 'delete', kind: 'manifest', repository: name, digest: digest.value, size: size ?? 0, ...tagOf(ref) });
      else await emit({ action: 'delete', kind: 'tag', repository: name, ...tagOf(ref) });
    },
  });

  return {
    blobs: decoratedBlobs,
    uploads,
    tags: registry.tags,
    referrers: registry.referrers,
    manifests: decoratedManifests,
    catalog: registry.catalog,
    maintenance: registry.maintenance,
  } satisfies Registry as Registry;
}


async function* countBytes(body: AsyncIterable<Uint8Array>, add: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    add(chunk.length);
    yield chunk;
  }
}

function tagOf(ref: ManifestReference): { tag?: string } {
  return 'tag' in ref ? { tag: ref.tag } : {};
}

function mountSource(request: RequestInfo | undefined): string | undefined {
  if (!request) return undefined;
  return new URL(request.url, 'http://x').searchParams.get('from') ?? undefined;
}
