// Admin API routes of replication (/api/v1/replication/...): endpoints and policies (config.yml's
// shown, the API's added, changed and removed, each change audited), a policy's runs, "run now",
// and retries of parked jobs. Endpoint passwords go in and are never sent back.
import type { ReplicationService } from '../replication/service.js';
import { CatalogError } from '../replication/catalog.js';
import type { ReplicationJobState } from '../meta/tables/replication.js';
import { AdminApiError, type AdminAction, type AdminBody } from './admin-types.js';

const STATES = new Set(['queued', 'running', 'done', 'parked']);

/** Turns the catalog's refusals into the admin API's. */
function refusals(action: AdminAction): AdminAction {
  return async (call) => {
    try {
      return await action(call);
    } catch (err) {
      if (err instanceof CatalogError) throw new AdminApiError(err.code, err.message);
      throw err;
    }
  };
}

function named(body: AdminBody, name: string): AdminBody {
  if (body.name !== undefined && body.name !== name) throw new AdminApiError('INVALID', `"name" (${String(body.name)}) differs from the name in the path (${name})`);
  return { ...body, name };
}

function listQuery(query: unknown): { limit?: number; state?: ReplicationJobState } {
  const q = query as Record<string, string | undefined>;
  const limit = q.limit !== undefined ? Number(q.limit) : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new AdminApiError('INVALID', '"limit" must be a positive integer');
  if (q.state !== undefined && !STATES.has(q.state)) throw new AdminApiError('INVALID', '"state" must be queued, running, done or parked');
  return { ...(limit ? { limit } : {}), ...(q.state ? { state: q.state as ReplicationJobState } : {}) };
}

export function replicationRoutes(r: ReplicationService): Array<[string, string, AdminAction]> {
  const routes: Array<[string, string, AdminAction]> = [
    ['GET', '/replication/endpoints', async () => ({ status: 200, body: await r.catalog.endpointViews() })],
    ['PUT', '/replication/endpoints/:name', async ({ body, params }) => {
      const view = await r.catalog.putEndpoint(named(body, params.name!));
      return { status: 200, body: view, audit: { action: 'replication.endpoint.set', target: view.name, detail: { url: view.url, username: view.username, hasPassword: view.hasPassword } } };
    }],
    ['DELETE', '/replication/endpoints/:name', async ({ params }) => {
      await r.catalog.deleteEndpoint(params.name!);
      return { status: 204, audit: { action: 'replication.endpoint.rm', target: params.name! } };
    }],
    ['GET', '/replication/policies', async () => ({ status: 200, body: await r.overview() })],
    ['PUT', '/replication/policies/:name', async ({ body, params }) => {
      const view = await r.catalog.putPolicy(named(body, params.name!));
      await r.reschedule();
      return { status: 200, body: view, audit: { action: 'replication.policy.set', target: view.name, detail: { ...view } } };
    }],
    ['DELETE', '/replication/policies/:name', async ({ params }) => {
      await r.catalog.deletePolicy(params.name!);
      await r.reschedule();
      return { status: 204, audit: { action: 'replication.policy.rm', target: params.name! } };
    }],
    ['POST', '/replication/policies/:name/run', async ({ params }) => {
      if (!(await r.catalog.policy(params.name!))) throw new AdminApiError('NOT_FOUND', `no policy named ${params.name!}`);
      const queued = await r.runNow(params.name!);
      return { status: 202, body: { queued }, audit: { action: 'replication.run', target: params.name! } };
    }],
    ['GET', '/replication/policies/:name/history', async ({ params, req }) => {
      if (!(await r.catalog.policy(params.name!))) throw new AdminApiError('NOT_FOUND', `no policy named ${params.name!}`);
      return { status: 200, body: await r.store.history({ policy: params.name!, ...listQuery(req.query) }) };
    }],
    ['POST', '/replication/policies/:name/retry', async ({ params }) => {
      const retried = await r.retry({ policy: params.name! });
      return { status: 200, body: { retried }, audit: { action: 'replication.retry', target: params.name!, detail: { retried } } };
    }],
    ['GET', '/replication/jobs', async ({ req }) => ({ status: 200, body: await r.store.history(listQuery(req.query)) })],
    ['POST', '/replication/jobs/:id/retry', async ({ params }) => {
      const job = await r.store.get(params.id!);
      if (!job) throw new AdminApiError('NOT_FOUND', `no job ${params.id!}`);
      if (job.state !== 'parked') throw new AdminApiError('CONFLICT', `job ${job.id} is ${job.state}, not parked`);
      const retried = await r.retry({ id: job.id });
      return { status: 200, body: { retried }, audit: { action: 'replication.retry', target: job.policy, detail: { job: job.id } } };
    }],
  ];
  return routes.map(([method, path, action]) => [method, path, refusals(action)]);
}
