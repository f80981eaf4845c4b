// `docker-archive:FILE[:name:tag]`: the `docker save` / `docker load` format. manifest.json lists
// each image's config file, RepoTags and layer files; `repositories` is the legacy index. One
// platform per image: an index must be narrowed before it gets here.
import { createReadStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { Digester, digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import { parseManifest } from '../oci/manifest.js';
import { verifyingStream } from '../client/index.js';
import { unpacked } from './oci-archive.js';
import { TarWriter } from './tar.js';
import type { Descriptor, ImageDestination, ImageSource, ManifestData } from './types.js';

interface ArchiveEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';

async function hashFile(file: string): Promise<{ digest: string; size: number; gzip: boolean }> {
  const digester = new Digester('sha256');
  let first: Buffer | undefined;
  for await (const chunk of createReadStream(file)) {
    first ??= chunk as Buffer;
    digester.update(chunk as Buffer);
  }
  return { digest: digester.digest().value, size: digester.size, gzip: !!first && first[0] === 0x1f && first[1] === 0x8b };
}

export class DockerArchiveSource implements ImageSource {
  readonly description: string;
  /** The unpacked archive. */
  readonly #root: string;
  /** Whether close() removes #root (it does when open() unpacked it). */
  readonly #owned: boolean;
  readonly #entry: ArchiveEntry;
  #files = new Map<string, string>();
  #manifest: ManifestData | undefined;

  private constructor(file: string, root: string, owned: boolean, entry: ArchiveEntry) {
    this.description = `docker-archive:${file}`;
    this.#root = root;
    this.#owned = owned;
    this.#entry = entry;
  }

  /** Every image (RepoTags) an archive holds, for `berth load`. */
  static async list(dir: string): Promise<ArchiveEntry[]> {
    return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ArchiveEntry[];
  }

  /** Opens the image named `ref` (a RepoTags entry), the only one, or the `@N`th. */
  static async open(file: string, ref: string | undefined, dir?: string): Promise<DockerArchiveSource> {
    const root = dir ?? await unpacked(file);
    const entries = await DockerArchiveSource.list(root);
    const index = ref?.startsWith('@') ? Number(ref.slice(1)) : undefined;
    const found = index !== undefined ? [entries[index]].filter((e): e is ArchiveEntry => !!e)
      : ref ? entries.filter((e) => e.RepoTags?.some((t) => t === ref || t.endsWith(`/${ref}`))) : entries;
    if (found.length !== 1) {
      if (!dir) await rm(root, { recursive: true, force: true });
      throw new Error(`docker-archive:${file}: ${found.length === 0 ? 'no' : 'more than one'} image${ref ? ` named ${ref}` : ''} (it holds: ${entries.map((e) => e.RepoTags?.join(' ') ?? '<untagged>').join(', ')})`);
    }
    return new DockerArchiveSource(file, root, !dir, found[0]!);
  }

  #inside(name: string): string {
    const full = resolve(this.#root, name);
    if (!full.startsWith(resolve(this.#root) + sep)) throw new Error(`${this.description}: ${name} points outside the archive`);
    return full;
  }

  async getManifest(digest?: string): Promise<ManifestData> {
    if (!this.#manifest) {
      const configFile = this.#inside(this.#entry.Config);
      const config = await hashFile(configFile);
      this.#files.set(config.digest, configFile);
      const layers: Descriptor[] = [];
      for (const name of this.#entry.Layers) {
        const file = this.#inside(name);
        const h = await hashFile(file);
        this.#files.set(h.digest, file);
        layers.push({ mediaType: h.gzip ? LAYER_GZIP : LAYER_TAR, digest: h.digest, size: h.size });
      }
      const bytes = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: MediaType.dockerManifest,
        config: { mediaType: DOCKER_CONFIG, digest: config.digest, size: config.size }, layers,
      }, null, 3));
      this.#manifest = { bytes, mediaType: MediaType.dockerManifest, digest: digestOf(bytes).value };
    }
    if (digest && digest !== this.#manifest.digest) throw new Error(`${this.description} has no manifest ${digest}`);
    return this.#manifest;
  }

  get repoTags(): string[] {
    return this.#entry.RepoTags ?? [];
  }

  async getBlob(desc: Descriptor): Promise<Readable> {
    const file = this.#files.get(desc.digest);
    if (!file) throw new Error(`${this.description} has no blob ${desc.digest}`);
    return createReadStream(file);
  }

  async close(): Promise<void> {
    if (this.#owned) await rm(this.#root, { recursive: true, force: true });
  }
}

export class DockerArchiveDestination implements ImageDestination {
  readonly description: string;
  readonly acceptsIndex = false;
  readonly #tar: TarWriter;
  readonly #images: ArchiveEntry[] = [];
  #finished = false;

  constructor(file: string) {
    this.description = `docker-archive:${file}`;
    this.#tar = new TarWriter(file);
  }

  static fileOf(desc: Descriptor): string {
    const hex = desc.digest.split(':')[1]!;
    return /config|container\.image/.test(desc.mediaType) ? `${hex}.json` : `${hex}.tar`;
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.#tar.names.has(DockerArchiveDestination.fileOf(desc));
  }

  putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void> {
    return this.#tar.add(DockerArchiveDestination.fileOf(desc), desc.size, async () => (await open()).pipe(verifyingStream(desc.digest, `blob ${desc.digest}`)));
  }

  async hasManifest(): Promise<boolean> {
    return false;
  }

  /** `tag` is the full name docker load will give the image (`host/repo:tag`). */
  async putManifest(m: ManifestData, tag: string | undefined): Promise<void> {
    const parsed = parseManifest(m.bytes, m.mediaType);
    if (parsed.kind !== 'image') throw new Error('docker-archive holds one platform per image: pick one with --platform');
    if (parsed.subject) return; // docker load has no place for signatures
    const [config, ...layers] = parsed.blobs;
    this.#images.push({ Config: DockerArchiveDestination.fileOf(config!), RepoTags: tag ? [tag] : null, Layers: layers.map((l) => DockerArchiveDestination.fileOf(l)) });
  }

  async commit(): Promise<void> {
    const repositories: Record<string, Record<string, string>> = {};
    for (const image of this.#images) {
      const top = image.Layers.at(-1)?.replace(/\.tar$/, '') ?? '';
      for (const t of image.RepoTags ?? []) {
        const colon = t.lastIndexOf(':');
        (repositories[t.slice(0, colon)] ??= {})[t.slice(colon + 1)] = top;
      }
    }
    await this.#tar.addBuffer('manifest.json', Buffer.from(JSON.stringify(this.#images)));
    await this.#tar.addBuffer('repositories', Buffer.from(JSON.stringify(repositories)));
    await this.#tar.finish();
    this.#finished = true;
  }

  async close(): Promise<void> {
    if (!this.#finished) this.#tar.abort();
  }
}

export async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
