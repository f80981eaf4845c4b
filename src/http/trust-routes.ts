// Admin API routes of content trust: the policies in force and the verdict on one image
// (`GET /api/v1/trust/verdict?repository=&reference=[&fresh=true]`), the same verdict the guard
// on manifest reads uses and `berth verify` prints.
import type { Registry } from '../registry/registry.js';
import { parseReference } from '../registry/manifest-store.js';
import { isValidName } from '../oci/reference.js';
import { isRegistryError } from '../errors/index.js';
import type { TrustService } from '../trust/trust-service.js';
import { AdminApiError, type AdminAction } from './admin-types.js';

export function trustRoutes(trust: TrustService | undefined, registry: Registry): Array<[string, string, AdminAction]> {
  const service = () => {
    if (!trust) throw new AdminApiError('NOT_FOUND', 'no trust policy is configured (trust.policies)');
    return trust;
  };
  return [
    ['GET', '/trust/policies', async () => ({
      status: 200,
      body: service().policies.all.map((p) => ({ name: p.name, mode: p.mode, repositories: p.repositories, exempt: [...p.exempt], satisfiedBy: p.satisfiedBy })),
    })],
    ['GET', '/trust/verdict', async ({ req }) => {
      const q = req.query as Record<string, string | undefined>;
      const repository = q.repository ?? '';
      const reference = q.reference ?? '';
      if (!isValidName(repository)) throw new AdminApiError('INVALID', '"repository" must be a repository name');
      if (reference === '') throw new AdminApiError('INVALID', '"reference" must be a tag or digest');
      const t = service();
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
}
