// The read API under `<prefix>/api/v1`: repositories, their artifacts and one artifact, served
// from the metadata database (the listing index and the inventory), never by walking storage.
// Every answer is JSON in the shapes of the OpenAPI document (openapi.ts, also served at
// /api/v1/openapi.json); refusals are the registry's error JSON. A Fastify plugin: the app
// registers it (app.ts) whenever the listing index is on.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../../errors/index.js';
import type { AuthService } from '../../auth/service.js';
import type { AlsoRequired } from '../../auth/access-control.js';
import { tryParseDigest } from '../../oci/digest.js';
import { isValidTag } from '../../oci/reference.js';
import type { Inventory } from '../../inventory/inventory.js';
import type { TrustService } from '../../trust/trust-service.js';
import { listRepositories, repositorySummary } from '../../inventory/repository-list.js';
import { listArtifacts } from '../../inventory/artifact-list.js';
import { artifactDetail } from '../../inventory/artifact-detail.js';
import type { HttpSettings } from '../settings.js';
import { ReadAccess } from './access.js';
import { QueryReader, invalid } from './query.js';
import { parseRepositoryPath } from './repository-path.js';
import { OPENAPI } from './openapi.js';
import { deletionPreview } from './deletion.js';
import { retentionPreview } from './retention.js';
import { storageTotal } from '../../meta/storage-total.js';
import { recordRoutes } from './records.js';

export interface ReadApiOptions {
  inventory: Inventory;
  auth: AuthService | undefined;
  settings: HttpSettings;
  alsoRequired?: AlsoRequired | undefined;
  upstreams?: (() => Promise<unknown>) | undefined;
  /** Content trust, when policies are configured: an artifact's signatures carry the verdict's word on each. */
  trust?: TrustService | undefined;
  /** Without policies in config.yml: content trust once a stored policy exists (undefined before). */
  activeTrust?: (() => Promise<TrustService | undefined>) | undefined;
}

const PAGE = ['limit', 'cursor', 'order'];

export const readApi: FastifyPluginAsync<ReadApiOptions> = async (app, { inventory, auth, settings, alsoRequired, upstreams, trust, activeTrust }) => {
  const access = new ReadAccess(auth, settings, alsoRequired);
  const db = inventory.db;
  const openapi = JSON.stringify(OPENAPI);

  app.get('/openapi.json', async (_req, reply) => json(reply, openapi));
  recordRoutes(app, db, access);

  app.get('/repositories', async (req, reply) => {
    const q = new QueryReader(req, ['q', 'project', 'sort', ...PAGE]);
    const sort = q.oneOf('sort', ['name', 'lastPush', 'size'] as const, 'name');
    const query = {
      q: q.text('q'), prefix: projectPrefix(q.text('project')), sort, order: q.oneOf('order', ['asc', 'desc'] as const, sort === 'name' ? 'asc' : 'desc'),
      limit: q.limit(), after: q.cursor(),
    };
    const visible = await access.catalog(req);
    return json(reply, await listRepositories(db, { ...query, visible }));
  });

  app.get('/repositories/*', async (req, reply) => {
    const { name, rest } = parseRepositoryPath((req.params as Record<string, string>)['*'] ?? '');
    await access.repository(req, name);
    const [what, reference, ...extra] = rest;
    if (what === undefined) {
      new QueryReader(req, []);
      const summary = await repositorySummary(db, name);
      if (!summary) throw new RegistryError('NAME_UNKNOWN', { name });
      return json(reply, summary);
    }
    if (what === 'artifacts' && reference === undefined) return json(reply, await artifacts(req, name));
    if (what === 'usage' && reference === undefined) {
      new QueryReader(req, []);
      return json(reply, await repositoryUsage(name));
    }
    if (what === 'deletion' && reference === undefined) return json(reply, await deletionPreview(req, db, name));
    if (what === 'artifacts' && reference !== undefined && extra.length === 0) {
      new QueryReader(req, []);
      return json(reply, await artifact(name, reference));
    }
    throw new RegistryError('NOT_FOUND', { path: req.url.split('?')[0] });
  });

  app.get('/usage', async (req, reply) => {
    new QueryReader(req, []);
    await access.administrator(req);
    return json(reply, await storageTotal(db));
  });

  app.get('/usage/projects', async (req, reply) => {
    new QueryReader(req, []);
    await access.administrator(req);
    return json(reply, { items: await usageReader().projects() });
  });

  app.get('/usage/projects/:project', async (req, reply) => {
    new QueryReader(req, []);
    await access.administrator(req);
    const project = (req.params as Record<string, string>).project ?? '';
    const usage = await usageReader().project(project);
    if (!usage) throw new RegistryError('NAME_UNKNOWN', { project });
    return json(reply, usage);
  });

  app.get('/retention/:project', async (req, reply) => {
    await access.administrator(req);
    return json(reply, await retentionPreview(req, inventory, (req.params as Record<string, string>).project ?? ''));
  });

  app.get('/upstreams', async (req, reply) => {
    new QueryReader(req, []);
    await access.administrator(req);
    return json(reply, { items: upstreams ? await upstreams() : [] });
  });

  app.get('/system', async (req, reply) => {
    new QueryReader(req, []);
    await access.administrator(req);
    return json(reply, inventory.system);
  });

  function usageReader() {
    if (!inventory.usage) throw new RegistryError('UNAVAILABLE', 'storage usage needs the listing index (meta.index.enabled)');
    return inventory.usage;
  }

  async function repositoryUsage(name: string) {
    if (!(await repositorySummary(db, name))) throw new RegistryError('NAME_UNKNOWN', { name });
    const usage = await usageReader().repository(name);
    return usage ?? { repository: name, project: name.split('/')[0]!, manifests: 0, totalBytes: 0, uniqueBytes: 0, sharedBytes: 0 };
  }

  async function artifacts(req: FastifyRequest, name: string) {
    const q = new QueryReader(req, ['tag', 'tagged', 'sort', 'all', ...PAGE]);
    const sort = q.oneOf('sort', ['pushed', 'name'] as const, 'pushed');
    const query = {
      repository: name, tag: q.text('tag', 128), tagged: q.flag('tagged'), all: q.flag('all'), sort,
      order: q.oneOf('order', ['asc', 'desc'] as const, sort === 'name' ? 'asc' : 'desc'), limit: q.limit(), after: q.cursor(), postgres: inventory.postgres,
    };
    if (!(await repositorySummary(db, name))) throw new RegistryError('NAME_UNKNOWN', { name });
    return listArtifacts(db, query);
  }

  async function artifact(name: string, reference: string) {
    const digest = await resolve(name, reference);
    // Content the recorder has not seen yet (pushed before it, or by a one-shot command) is read now.
    if (!(await inventory.book.get(name, digest))) {
      const parsed = tryParseDigest(digest);
      if (typeof parsed !== 'string') await inventory.recorder.ensure(name, parsed);
    }
    const detail = await artifactDetail(db, inventory.core, name, digest);
    if (!detail) throw new RegistryError('MANIFEST_UNKNOWN', { name, reference });
    // Signatures are read from the core by digest (a few small blobs), with the signer each names.
    const { RegistrySignatureSource } = await import('../../trust/registry-source.js');
    const { signatureSummaries } = await import('../../trust/signature-summary.js');
    return { ...detail, signatures: await signatureSummaries(new RegistrySignatureSource(inventory.core), name, digest, trust ?? (await activeTrust?.())) };
  }

  async function resolve(name: string, reference: string): Promise<string> {
    if (reference.includes(':')) {
      const parsed = tryParseDigest(reference);
      if (typeof parsed === 'string') throw new RegistryError('DIGEST_INVALID', { digest: reference, reason: parsed });
      return parsed.value;
    }
    if (!isValidTag(reference)) throw new RegistryError('TAG_INVALID', { tag: reference });
    const row = await db.selectFrom('berth_listing_tag').select('digest').where('repository', '=', name).where('tag', '=', reference).executeTakeFirst();
    if (!row) throw new RegistryError('MANIFEST_UNKNOWN', { name, tag: reference });
    return row.digest;
  }
};

function projectPrefix(project: string | undefined): string | undefined {
  if (project === undefined) return undefined;
  if (project === '' || project.includes('/')) throw invalid('project', '"project" must be one name component, such as "team"');
  return `${project}/`;
}

function json(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.code(200).type('application/json').header('Cache-Control', 'no-store').send(typeof body === 'string' ? body : JSON.stringify(body));
}
