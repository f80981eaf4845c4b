// The other registry of a policy, through THE OCI client: a client per endpoint (credentials,
// TLS, plain HTTP), and a destination that mounts a blob from a repository of the same
// destination it already sent it to, instead of sending it again (shared base layers move once).
import { RegistryClient, type Credentials, type TlsOptions } from '../client/index.js';
import { RegistryDestination } from '../transport/registry.js';
import type { Readable } from 'node:stream';
import type { Descriptor } from '../transport/types.js';

export interface EndpointSettings {
  name: string;
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  insecure: boolean;
  /** PEM of the CAs to trust. */
  ca?: string | Buffer | undefined;
}

export function endpointClient(e: EndpointSettings, options: { retries?: number } = {}): RegistryClient {
  const url = new URL(e.url);
  const creds: Credentials | undefined = e.username !== undefined ? { username: e.username, password: e.password ?? '' } : undefined;
  const tls: TlsOptions = { ...(e.ca ? { ca: e.ca } : {}), ...(e.insecure ? { insecure: true } : {}) };
  return new RegistryClient({
    host: url.host, plainHttp: url.protocol === 'http:', tls, credentials: async () => creds,
    userAgent: 'berth-replication/0.1', retries: options.retries ?? 3,
  });
}

/**
 * Where each blob already is on one destination registry (digest -> repository), most recent
 * last, and which blobs are on their way there now: jobs copying images that share layers
 * (a run's parallel images, event jobs) send each such layer once and mount it after.
 */
export class BlobLocations {
  readonly #where = new Map<string, string>();
  readonly #sending = new Map<string, Promise<void>>();
  readonly #max: number;

  constructor(max = 100_000) {
    this.#max = max;
  }

  get(digest: string): string | undefined {
    return this.#where.get(digest);
  }

  set(digest: string, repository: string): void {
    this.#where.delete(digest);
    this.#where.set(digest, repository);
    if (this.#where.size > this.#max) this.#where.delete(this.#where.keys().next().value!);
  }

  /** The transfer of `digest` under way, if one is. */
  sending(digest: string): Promise<void> | undefined {
    return this.#sending.get(digest);
  }

  /** Marks `digest` as on its way; the returned function ends that (sent or not). */
  claim(digest: string): () => void {
    let end!: () => void;
    const done = new Promise<void>((resolve) => { end = resolve; });
    this.#sending.set(digest, done);
    return () => {
      if (this.#sending.get(digest) === done) this.#sending.delete(digest);
      end();
    };
  }
}

/**
 * A repository of the endpoint as a copy destination: a blob it has in another repository is
 * mounted from there, and a blob another copy is sending right now is waited for and mounted,
 * not sent twice.
 */
export class MountingDestination extends RegistryDestination {
  readonly #locations: BlobLocations;
  /** Blobs this destination claimed in hasBlob and sends in putBlob. */
  readonly #claims = new Map<string, () => void>();

  constructor(client: RegistryClient, repository: string, locations: BlobLocations) {
    super(client, { host: client.host, repository });
    this.#locations = locations;
  }

  /**
   * A blob known to be in another repository there is not asked about first: the mount that
   * follows answers 201 whether it links the blob or the repository had it already, so the
   * HEAD would be one round trip more per shared layer.
   */
  override async hasBlob(desc: Descriptor): Promise<boolean> {
    for (;;) {
      const from = this.#locations.get(desc.digest);
      if (from !== undefined && from !== this.ref.repository) return false;
      const other = this.#locations.sending(desc.digest);
      if (other === undefined) break;
      await other; // then mount it from where it went (or, if that copy failed, send it here)
    }
    const release = this.#locations.claim(desc.digest);
    try {
      const has = await super.hasBlob(desc);
      if (has) {
        this.#locations.set(desc.digest, this.ref.repository);
        release();
      } else {
        this.#end(desc.digest);
        this.#claims.set(desc.digest, release);
      }
      return has;
    } catch (err) {
      release();
      throw err;
    }
  }

  override async tryMount(desc: Descriptor): Promise<boolean> {
    const from = this.#locations.get(desc.digest);
    if (from === undefined || from === this.ref.repository) return false;
    // A registry that refuses the mount (gone since, no rights there) answers with an upload: copy then.
    const mounted = await this.client.mountBlob(this.ref.repository, desc.digest, from).catch(() => false);
    if (mounted) this.#end(desc.digest);
    return mounted;
  }

  #end(digest: string): void {
    this.#claims.get(digest)?.();
    this.#claims.delete(digest);
  }

  override async putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void> {
    try {
      await super.putBlob(desc, open);
      this.#locations.set(desc.digest, this.ref.repository);
    } finally {
      this.#end(desc.digest);
    }
  }

  override async close(): Promise<void> {
    // The client is the endpoint's, shared by every job: it stays open. Claims left (a copy
    // that stopped between asking and sending) end here.
    for (const release of this.#claims.values()) release();
    this.#claims.clear();
  }
}
