// `oci:DIR[:ref]`: an OCI image layout directory (oci-layout, index.json, blobs/<alg>/<hex>).
// Blobs are written to a temporary name, verified against their digest while they stream,
// and renamed into place; index.json is rewritten atomically the same way.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { tryParseDigest, digestOf } from '../oci/digest.js';
import { verifyingStream, readLimited, MAX_MANIFEST_BYTES } from '../client/index.js';
import type { Descriptor, ImageDestination, ImageSource, ManifestData } from './types.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';

interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export function blobPath(dir: string, digest: string): string {
  const d = tryParseDigest(digest);
  if (typeof d === 'string') throw new Error(`invalid digest ${digest}`);
  return join(dir, 'blobs', d.algorithm, d.hex);
}

async function readIndex(dir: string): Promise<LayoutIndex> {
  return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as LayoutIndex;
}

export class OciLayoutSource implements ImageSource {
  readonly description: string;
  readonly #dir: string;
  readonly #ref: string | undefined;

  constructor(dir: string, ref: string | undefined) {
    this.#dir = dir;
    this.#ref = ref;
    this.description = `oci:${dir}${ref ? `:${ref}` : ''}`;
  }

  async #root(): Promise<Descriptor> {
    const index = await readIndex(this.#dir);
    const tagged = this.#ref ? index.manifests.filter((m) => m.annotations?.[REF_NAME] === this.#ref || m.digest === this.#ref) : index.manifests.filter((m) => !(m as { subject?: unknown }).subject);
    if (tagged.length !== 1) {
      const names = index.manifests.map((m) => m.annotations?.[REF_NAME]).filter(Boolean).join(', ');
      throw new Error(`${this.description}: ${tagged.length === 0 ? 'no' : 'more than one'} image ${this.#ref ? `named ${this.#ref}` : 'without a name'} in index.json (names: ${names || 'none'})`);
    }
    return tagged[0]!;
  }

  async getManifest(digest?: string): Promise<ManifestData> {
    const desc = digest ? undefined : await this.#root();
    const wanted = digest ?? desc!.digest;
    const bytes = await readLimited(createReadStream(blobPath(this.#dir, wanted)), MAX_MANIFEST_BYTES, `manifest ${wanted}`);
    const actual = digestOf(bytes, wanted.startsWith('sha512:') ? 'sha512' : 'sha256').value;
    if (actual !== wanted) throw new Error(`${this.description}: manifest ${wanted} is corrupt (hashes to ${actual})`);
    const mediaType = desc?.mediaType ?? ((JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? '');
    return { bytes, mediaType, digest: wanted };
  }

  async getBlob(desc: Descriptor): Promise<Readable> {
    const file = blobPath(this.#dir, desc.digest);
    await stat(file);
    return createReadStream(file);
  }

  async referrers(digest: string): Promise<Descriptor[]> {
    const index = await readIndex(this.#dir);
    const out: Descriptor[] = [];
    for (const m of index.manifests) {
      const bytes = await readFile(blobPath(this.#dir, m.digest));
      const doc = JSON.parse(bytes.toString('utf8')) as { subject?: Descriptor; artifactType?: string; config?: Descriptor };
      if (doc.subject?.digest === digest) out.push({ ...m, artifactType: doc.artifactType ?? doc.config?.mediaType ?? '' } as Descriptor);
    }
    return out;
  }

  async close(): Promise<void> {}
}

export class OciLayoutDestination implements ImageDestination {
  readonly description: string;
  readonly acceptsIndex = true;
  readonly #dir: string;
  readonly #entries: Array<{ desc: Descriptor; tag: string | undefined }> = [];

  constructor(dir: string, tag: string | undefined) {
    this.#dir = dir;
    this.description = `oci:${dir}${tag ? `:${tag}` : ''}`;
  }

  async #ensure(): Promise<void> {
    await mkdir(join(this.#dir, 'blobs'), { recursive: true });
    await writeFile(join(this.#dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    try {
      return (await stat(blobPath(this.#dir, desc.digest))).size === desc.size;
    } catch {
      return false;
    }
  }

  async putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void> {
    await this.#ensure();
    const final = blobPath(this.#dir, desc.digest);
    await mkdir(join(final, '..'), { recursive: true });
    const temp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await pipeline(await open(), verifyingStream(desc.digest, `blob ${desc.digest}`), createWriteStream(temp));
      await rename(temp, final);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async hasManifest(digest: string): Promise<boolean> {
    return stat(blobPath(this.#dir, digest)).then(() => true, () => false);
  }

  async putManifest(m: ManifestData, tag: string | undefined): Promise<void> {
    const desc = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
    await this.putBlob(desc, async () => Readable.from([m.bytes]));
    const doc = JSON.parse(m.bytes.toString('utf8')) as { subject?: unknown };
    // Children of an index are reachable through it; only roots and referrers get an entry.
    if (tag !== undefined || doc.subject) this.#entries.push({ desc, tag });
  }

  async commit(): Promise<void> {
    await this.#ensure();
    let index: LayoutIndex = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
    try {
      index = await readIndex(this.#dir);
    } catch {
      // a new layout
    }
    for (const { desc, tag } of this.#entries) {
      index.manifests = index.manifests.filter((e) => (tag ? e.annotations?.[REF_NAME] !== tag : e.digest !== desc.digest));
      index.manifests.push(tag ? { ...desc, annotations: { [REF_NAME]: tag } } : desc);
    }
    const temp = join(this.#dir, `index.json.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temp, JSON.stringify(index));
    await rename(temp, join(this.#dir, 'index.json'));
  }

  async close(): Promise<void> {}
}
