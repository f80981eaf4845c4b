// An upstream's `verify:`: a manifest the pull-through cache fetches is judged by the named trust
// policy before it is stored, with the signatures read from the upstream itself (cosign's
// `sha256-<hex>.sig` tag and the referrers API, through the upstream's own client), so an
// unsigned or badly signed image never enters the cache. The same verdict code as a local pull's;
// only the source of the signatures differs. Caching is shared by every client, so `exempt` does
// not apply here: what one user could fetch unsigned, all would then be served.
import type { FastifyBaseLogger } from 'fastify';
import { RegistryError } from '../errors/index.js';
import type { ParsedManifest } from '../oci/manifest.js';
import type { RequestScope } from '../events/request-scope.js';
import type { AdmissionRequest, UpstreamAdmission, UpstreamCaller } from '../proxy/admission.js';
import { ClientSignatureSource } from './client-source.js';
import type { TrustPolicy } from './policies.js';
import type { TrustReporter } from './reporter.js';
import type { VerdictCache } from './verdict-cache.js';
import { judge, whyUnverified, type Verdict } from './verdict.js';
import { isSignatureArtifact, isSignatureTag } from './formats.js';

export interface UpstreamVerifyOptions {
  policy: TrustPolicy;
  /** Accepted verdicts only: a refused image is asked about again on its next pull, so signing it upstream takes effect at once. */
  cache: VerdictCache;
  logger: FastifyBaseLogger;
  reporter?: TrustReporter | undefined;
  scope?: RequestScope | undefined;
  /** Index children remembered as covered by a served verified index. */
  coveredLimit: number;
}

export class UpstreamVerification implements UpstreamAdmission {
  readonly #o: UpstreamVerifyOptions;
  /** `local@child` -> the index that lists it: a multi-platform pull reads children by digest after the index. */
  readonly #covered = new Map<string, string>();

  constructor(options: UpstreamVerifyOptions) {
    this.#o = options;
  }

  async admit(r: AdmissionRequest, call: UpstreamCaller): Promise<void> {
    const { policy } = this.#o;
    if (policy.mode === 'off' || isSignatureTag(r.reference) || isSignatureArtifact(r.parsed)) return;
    if (this.#covered.has(`${r.local}@${r.digest}`)) return;
    let verdict = this.#o.cache.get(policy.name, r.local, r.digest);
    const fresh = !verdict;
    if (!verdict) {
      // Judged under the remote name (where the signatures are), reported under the local one.
      const judged = await call((signal) => judge(new ClientSignatureSource(r.client, signal), r.remote, r.digest, policy, r.bytes));
      verdict = { ...judged, repository: r.local };
      this.#o.reporter?.judged(verdict);
      if (verdict.verified) this.#o.cache.set(verdict);
    }
    if (verdict.verified) return;
    await this.#report(verdict, r, fresh);
    if (policy.mode !== 'enforce') return;
    const reason = whyUnverified(verdict);
    const message = `policy "${policy.name}" requires a valid signature on ${r.local}@${r.digest} from upstream "${r.upstream}" (${r.remoteurl}, ${r.remote}): ${reason}; it was not cached. Satisfied by ${policy.satisfiedBy}`;
    throw new RegistryError('DENIED', {
      policy: policy.name, upstream: r.upstream, repository: r.local, remote: r.remote, digest: r.digest, reason, satisfiedBy: policy.satisfiedBy,
    }, { message });
  }

  served(local: string, digest: string, parsed: ParsedManifest | undefined): void {
    if (parsed?.kind !== 'index') return;
    for (const child of parsed.manifests) {
      const key = `${local}@${child.digest}`;
      this.#covered.delete(key);
      this.#covered.set(key, digest);
    }
    while (this.#covered.size > this.#o.coveredLimit) this.#covered.delete(this.#covered.keys().next().value!);
  }

  async #report(verdict: Verdict, r: AdmissionRequest, fresh: boolean): Promise<void> {
    const ctx = this.#o.scope?.current();
    if (ctx && this.#o.reporter) {
      await this.#o.reporter.unverifiedRead(verdict, ctx, true);
      return;
    }
    if (fresh) {
      this.#o.logger.warn({ upstream: r.upstream, repository: r.local, digest: r.digest, policy: verdict.policy, mode: verdict.mode, reason: whyUnverified(verdict) },
        'trust: upstream image without an accepted signature');
    }
  }
}
