// `oci-archive:FILE[:ref]`: an OCI layout in a tarball. Writing streams each blob into the tar
// as it arrives (index.json last); reading unpacks into a temporary directory first, because a
// tarball offers no random access.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tryParseDigest } from '../oci/digest.js';
import { verifyingStream } from '../client/index.js';
import { OciLayoutSource, REF_NAME } from './oci-layout.js';
import { TarWriter, extractTar } from './tar.js';
import type { Descriptor, ImageDestination, ImageSource, ManifestData } from './types.js';

export function blobEntry(digest: string): string {
  const d = tryParseDigest(digest);
  if (typeof d === 'string') throw new Error(`invalid digest ${digest}`);
  return `blobs/${d.algorithm}/${d.hex}`;
}

/** Unpacks an archive into a fresh temporary directory; the caller removes it. */
export async function unpacked(file: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-archive-'));
  try {
    await extractTar(file, dir);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

export class OciArchiveSource implements ImageSource {
  readonly description: string;
  readonly #layout: OciLayoutSource;
  readonly #dir: string;

  private constructor(file: string, dir: string, ref: string | undefined) {
    this.description = `oci-archive:${file}${ref ? `:${ref}` : ''}`;
    this.#dir = dir;
    this.#layout = new OciLayoutSource(dir, ref);
  }

  static async open(file: string, ref: string | undefined): Promise<OciArchiveSource> {
    return new OciArchiveSource(file, await unpacked(file), ref);
  }

  getManifest(digest?: string): Promise<ManifestData> {
    return this.#layout.getManifest(digest);
  }

  getBlob(desc: Descriptor): Promise<Readable> {
    return this.#layout.getBlob(desc);
  }

  referrers(digest: string): Promise<Descriptor[]> {
    return this.#layout.referrers(digest);
  }

  async close(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }
}

export class OciArchiveDestination implements ImageDestination {
  readonly description: string;
  readonly acceptsIndex = true;
  readonly #tar: TarWriter;
  readonly #entries: Descriptor[] = [];
  #finished = false;

  constructor(file: string, tag: string | undefined) {
    this.description = `oci-archive:${file}${tag ? `:${tag}` : ''}`;
    this.#tar = new TarWriter(file);
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.#tar.names.has(blobEntry(desc.digest));
  }

  putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void> {
    return this.#tar.add(blobEntry(desc.digest), desc.size, async () => (await open()).pipe(verifyingStream(desc.digest, `blob ${desc.digest}`)));
  }

  async hasManifest(digest: string): Promise<boolean> {
    return this.#tar.names.has(blobEntry(digest));
  }

  async putManifest(m: ManifestData, tag: string | undefined): Promise<void> {
    await this.#tar.addBuffer(blobEntry(m.digest), m.bytes);
    const desc: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
    const subject = (JSON.parse(m.bytes.toString('utf8')) as { subject?: unknown }).subject;
    if (tag !== undefined) this.#entries.push({ ...desc, annotations: { [REF_NAME]: tag } });
    else if (subject) this.#entries.push(desc);
  }

  async commit(): Promise<void> {
    await this.#tar.addBuffer('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    await this.#tar.addBuffer('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: this.#entries })));
    await this.#tar.finish();
    this.#finished = true;
  }

  async close(): Promise<void> {
    if (!this.#finished) this.#tar.abort();
  }
}
