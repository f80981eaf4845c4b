// Admin API routes of content trust: the policies in force (config.yml's shown, the API's added,
// replaced and removed, each change audited) and the verdict on one image
// (`GET /api/v1/trust/verdict?repository=&reference=[&fresh=true]`), the same verdict the guard
// on manifest reads uses and `berth verify` prints.
import type { Registry } from '../registry/registry.js';
import { parseReference } from '../registry/manifest-store.js';
import { isValidName } from '../oci/reference.js';
import { isRegistryError } from '../errors/index.js';
import type { TrustService } from '../trust/trust-service.js';
import { TrustCatalogError } from '../trust/catalog-error.js';
import { AdminApiError, type AdminAction, type AdminBody } from './admin-types.js';

/** Turns the catalog's refusals into the admin API's. */
function refusals(action: AdminAction): AdminAction {
  return async (call) => {
    try {
      return await action(call);
    } catch (err) {
      if (err instanceof TrustCatalogError) throw new AdminApiError(err.code, err.message);
      throw err;
    }
  };
}

function named(body: AdminBody, name: string): AdminBody {
  if (body.name !== undefined && body.name !== name) throw new AdminApiError('INVALID', `"name" (${String(body.name)}) differs from the name in the path (${name})`);
  return { ...body, name };
}

export function trustRoutes(trust: TrustService | undefined, registry: Registry, loadTrust?: () => Promise<TrustService>): Array<[string, string, AdminAction]> {
  const service = async () => {
    if (!trust && loadTrust) return loadTrust();
    if (!trust) throw new AdminApiError('NOT_FOUND', 'content trust is off: no trust policy is configured (trust.policies), and policies are added through the API only with auth and a metadata database');
    return trust;
  };
  const routes: Array<[string, string, AdminAction]> = [
    ['GET', '/trust/policies', async () => ({ status: 200, body: await (await service()).catalog.views() })],
    ['PUT', '/trust/policies/:name', async ({ body, params }) => {
      const view = await (await service()).catalog.put(named(body, params.name!));
      const b = view.body!;
      // The audit entry names the keys by fingerprint: PEM text would bloat every entry.
      const detail = { mode: b.mode, repositories: b.repositories, exempt: b.exempt, satisfiedBy: view.satisfiedBy };
      return { status: 200, body: view, audit: { action: 'trust.policy.set', target: view.name, detail } };
    }],
    ['DELETE', '/trust/policies/:name', async ({ params }) => {
      await (await service()).catalog.delete(params.name!);
      return { status: 204, audit: { action: 'trust.policy.rm', target: params.name! } };
    }],
    ['GET', '/trust/verdict', async ({ req }) => {
      const q = req.query as Record<string, string | undefined>;
      const repository = q.repository ?? '';
      const reference = q.reference ?? '';
      if (!isValidName(repository)) throw new AdminApiError('INVALID', '"repository" must be a repository name');
      if (reference === '') throw new AdminApiError('INVALID', '"reference" must be a tag or digest');
      const t = await service();
      let manifest;
      try {
        manifest = await registry.manifests.get(repository, parseReference(reference));
      } catch (err) {
        if (isRegistryError(err) && ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN', 'MANIFEST_INVALID', 'DIGEST_INVALID'].includes(err.code)) {
          throw new AdminApiError('NOT_FOUND', `${repository}:${reference}: ${err.message}`);
        }
        throw err;
      }
      const answer = await t.verdict(repository, manifest.digest.value, { fresh: q.fresh === 'true', manifest });
      if (!answer) throw new AdminApiError('NOT_FOUND', `no trust policy covers ${repository}`);
      return { status: 200, body: { ...answer.verdict, cached: answer.cached } };
    }],
  ];
  return routes.map(([method, path, action]) => [method, path, refusals(action)]);
}
