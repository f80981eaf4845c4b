// Signatures read from a registry through the OCI client, for `berth verify` and `berth sign`,
// and from a pull-through cache's upstream (`verify:`).
import { readLimited, RegistryResponseError, type RegistryClient } from '../client/index.js';
import type { SignatureSource } from './source.js';

export class ClientSignatureSource implements SignatureSource {
  readonly #client: RegistryClient;
  readonly #signal: AbortSignal | undefined;

  /** `signal` bounds every read (a pull-through cache judges within the upstream's timeout). */
  constructor(client: RegistryClient, signal?: AbortSignal) {
    this.#client = client;
    this.#signal = signal;
  }

  async manifest(repository: string, reference: string) {
    try {
      const m = await this.#client.getManifest(repository, reference, this.#signal);
      return { digest: m.digest, bytes: m.bytes };
    } catch (err) {
      if (err instanceof RegistryResponseError && err.status === 404) return undefined;
      throw err;
    }
  }

  async referrers(repository: string, digest: string) {
    try {
      return await this.#client.referrers(repository, digest, undefined, this.#signal);
    } catch (err) {
      if (err instanceof RegistryResponseError && err.status === 404) return [];
      throw err;
    }
  }

  async blob(repository: string, digest: string, limit: number): Promise<Buffer> {
    const { stream } = await this.#client.getBlob(repository, digest, { verify: true, ...(this.#signal ? { signal: this.#signal } : {}) });
    return readLimited(stream, limit, `blob ${digest}`);
  }
}
