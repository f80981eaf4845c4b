// The part of replication that talks to other registries: the OCI client (and undici under it),
// the copy engine and the job runner. The service imports this module when the first job runs,
// so a registry whose replication stays unused never loads any of it.
import type { Registry } from '../registry/registry.js';
import { AuthError, RegistryResponseError, type RegistryClient } from '../client/index.js';
import type { Job, JobCounts } from './job-store.js';
import { JobRunner } from './executor.js';
import type { ReplicationPolicy } from './policy.js';
import { BlobLocations, endpointClient, type EndpointSettings } from './remote-side.js';
import { PermanentFailure } from './failures.js';

export class ReplicationRuntime {
  readonly #clients = new Map<string, { client: RegistryClient; locations: BlobLocations; key: string }>();

  async run(job: Job, parts: { policy: ReplicationPolicy; endpoint: EndpointSettings; registry: Registry; core: Registry; signal: AbortSignal }): Promise<JobCounts> {
    const { client, locations } = this.#clientFor(parts.endpoint);
    const runner = new JobRunner({ policy: parts.policy, registry: parts.registry, core: parts.core, client, locations, signal: parts.signal });
    try {
      return await runner.run(job);
    } catch (err) {
      // Refused credentials do not mend by waiting: the job is parked at once.
      const refused = err instanceof AuthError || (err instanceof RegistryResponseError && (err.status === 401 || err.status === 403));
      if (refused) throw new PermanentFailure((err as Error).message, { cause: err });
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((c) => c.client.close()));
    this.#clients.clear();
  }

  /** One client per endpoint (its tokens and connections reused), replaced when the endpoint changes. */
  #clientFor(e: EndpointSettings): { client: RegistryClient; locations: BlobLocations } {
    const key = JSON.stringify([e.url, e.username, e.password, e.insecure, e.ca?.toString()]);
    const known = this.#clients.get(e.name);
    if (known?.key === key) return known;
    if (known) known.client.close().catch(() => undefined);
    const fresh = { client: endpointClient(e), locations: new BlobLocations(), key };
    this.#clients.set(e.name, fresh);
    return fresh;
  }
}
