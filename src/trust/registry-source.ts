// Signatures read straight from the registry core: no HTTP, no policy in the way (the core
// under the enforcing decorator), so judging an image never recurses into judging its signatures.
import type { Registry } from '../registry/registry.js';
import { tryParseDigest, type Digest } from '../oci/digest.js';
import { parseReference } from '../registry/manifest-store.js';
import { isRegistryError } from '../errors/index.js';
import type { SignatureSource } from './source.js';

export class RegistrySignatureSource implements SignatureSource {
  readonly #core: Registry;

  constructor(core: Registry) {
    this.#core = core;
  }

  async manifest(repository: string, reference: string) {
    try {
      const m = await this.#core.manifests.get(repository, parseReference(reference));
      return { digest: m.digest.value, bytes: m.content };
    } catch (err) {
      if (isRegistryError(err) && (err.code === 'MANIFEST_UNKNOWN' || err.code === 'NAME_UNKNOWN')) return undefined;
      throw err;
    }
  }

  referrers(repository: string, digest: string) {
    return this.#core.manifests.referrers(repository, digestOrThrow(digest));
  }

  async blob(repository: string, digest: string, limit: number): Promise<Buffer> {
    const d = digestOrThrow(digest);
    if (!(await this.#core.blobs.isLinked(repository, d))) throw new Error(`blob ${digest} is not in ${repository}`);
    const size = await this.#core.blobs.size(d);
    if (size === undefined) throw new Error(`blob ${digest} is missing`);
    if (size > limit) throw new Error(`blob ${digest} is ${size} bytes, more than a signature's ${limit}`);
    const stream = await this.#core.blobs.open(repository, d);
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }
}

function digestOrThrow(text: string): Digest {
  const d = tryParseDigest(text);
  if (typeof d === 'string') throw new Error(`"${text}" is not a digest`);
  return d;
}
