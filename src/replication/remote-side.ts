// The other registry of a policy, through THE OCI client: a client per endpoint (credentials,
// TLS, plain HTTP), and a destination that mounts a blob from a repository of the same
// destination it already sent it to, instead of sending it again (shared base layers move once).
import { RegistryClient, type Credentials, type TlsOptions } from '../client/index.js';
import { RegistryDestination } from '../transport/registry.js';
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

/** Where each blob already is on one destination registry (digest -> repository), most recent last. */
export class BlobLocations {
  readonly #where = new Map<string, string>();
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
}

export class MountingDestination extends RegistryDestination {
  readonly #locations: BlobLocations;

  constructor(client: RegistryClient, repository: string, locations: BlobLocations) {
    super(client, { host: client.host, repository });
    this.#locations = locations;
  }

  override async tryMount(desc: Descriptor): Promise<boolean> {
    const from = this.#locations.get(desc.digest);
    if (from === undefined || from === this.ref.repository) return false;
    // A registry that refuses the mount (gone since, no rights there) answers with an upload: copy then.
    return this.client.mountBlob(this.ref.repository, desc.digest, from).catch(() => false);
  }
}
