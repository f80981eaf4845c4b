// Content trust on a serving registry: verdicts (cached), the guard that refuses or reports
// manifest reads of unverified images, and the signature changes that drop cached verdicts.
// The guard wraps the registry the HTTP API serves; verdicts read signatures from the core
// beneath it, so judging an image never passes through the guard again.
import type { FastifyBaseLogger } from 'fastify';
import type { Registry } from '../registry/registry.js';
import type { ManifestStore, StoredManifest } from '../registry/manifest-store.js';
import type { ParsedManifest } from '../oci/manifest.js';
import { decorate } from '../registry/decorate.js';
import { RegistryError } from '../errors/index.js';
import type { RequestContext, RequestScope } from '../events/request-scope.js';
import type { SignatureSource } from './source.js';
import { RegistrySignatureSource } from './registry-source.js';
import type { TrustPolicies, TrustPolicy } from './policies.js';
import type { TrustCatalog } from './catalog.js';
import { VerdictCache } from './verdict-cache.js';
import { judge, whyUnverified, type Verdict } from './verdict.js';
import { isSignatureArtifact, isSignatureTag, subjectOfSignatureTag } from './formats.js';
import type { TrustReporter } from './reporter.js';
import { UpstreamVerification } from './upstream-verify.js';

export interface TrustServiceOptions {
  core: Registry;
  catalog: TrustCatalog;
  cacheSize: number;
  cacheTtlMs: number;
  logger: FastifyBaseLogger;
  reporter?: TrustReporter;
}

export interface VerdictAnswer {
  verdict: Verdict;
  cached: boolean;
}

export class TrustService {
  readonly catalog: TrustCatalog;
  readonly #source: SignatureSource;
  readonly #cache: VerdictCache;
  readonly #logger: FastifyBaseLogger;
  readonly #reporter: TrustReporter | undefined;
  /** Children of verified indexes: a multi-platform pull reads them by digest after the index. */
  readonly #covered = new Map<string, string>();
  readonly #coveredLimit: number;
  /** Verdicts on upstream content (signatures read from the upstream), apart from local ones of the same names. */
  readonly #upstreamCache: VerdictCache;

  constructor(options: TrustServiceOptions) {
    this.catalog = options.catalog;
    this.#source = new RegistrySignatureSource(options.core);
    this.#cache = new VerdictCache(options.cacheSize, options.cacheTtlMs);
    this.#logger = options.logger;
    this.#reporter = options.reporter;
    this.#coveredLimit = options.cacheSize * 4;
    this.#upstreamCache = new VerdictCache(options.cacheSize, options.cacheTtlMs);
  }

  /** The check a pull-through upstream with `verify: <policy>` makes on what it fetches. */
  upstreamVerification(policyName: string, scope?: RequestScope): UpstreamVerification {
    const policy = this.catalog.configured.named(policyName);
    if (!policy) throw new Error(`no trust policy is named "${policyName}"`);
    return new UpstreamVerification({
      policy, cache: this.#upstreamCache, logger: this.#logger, reporter: this.#reporter, scope, coveredLimit: this.#coveredLimit,
    });
  }

  /** The verdict of `policy` (by default the repository's) on `digest`, from the cache unless `fresh`. */
  async verdict(repository: string, digest: string, options: { policy?: TrustPolicy; fresh?: boolean; manifest?: StoredManifest } = {}): Promise<VerdictAnswer | undefined> {
    const policy = options.policy ?? (await this.catalog.current()).match(repository);
    if (!policy) return undefined;
    if (!options.fresh) {
      const cached = this.#cache.get(policy.name, repository, digest);
      if (cached) return { verdict: cached, cached: true };
    }
    const verdict = await judge(this.#source, repository, digest, policy, options.manifest?.content);
    if (verdict.verified && options.manifest?.parsed?.kind === 'index') this.#cover(repository, digest, options.manifest.parsed);
    this.#cache.set(verdict);
    this.#reporter?.judged(verdict);
    if (!verdict.verified) this.#logger.info({ repository, digest, policy: policy.name, reason: whyUnverified(verdict) }, 'trust: image has no accepted signature');
    return { verdict, cached: false };
  }

  /** The policies in force now (config.yml's and the stored ones). */
  policies(): Promise<TrustPolicies> {
    return this.catalog.current();
  }

  /** Drops the cached verdicts of policies that were changed or removed. */
  policiesChanged(names: string[]): void {
    for (const name of names) this.#cache.dropPolicy(name);
  }

  /** Drops cached verdicts when a signature or referrer of `digest` changes. */
  signatureChanged(repository: string, digest: string): void {
    this.#cache.drop(repository, digest);
  }

  /** The registry the HTTP API serves, with manifest reads judged and signature writes watched. */
  guard(registry: Registry, scope: RequestScope, judgedAtFetch?: (name: string, ns: string | undefined) => Promise<boolean>): Registry {
    const manifests = registry.manifests;
    const guarded = decorate<ManifestStore>(manifests, {
      get: async (name, ref) => {
        const m = await manifests.get(name, ref);
        const ctx = scope.current();
        // Only consumers' requests are judged; background work (scans, GC) reads freely.
        if (!ctx || ('tag' in ref && isSignatureTag(ref.tag)) || isSignatureArtifact(m.parsed)) return m;
        await this.#admit(name, m, ctx, judgedAtFetch);
        return m;
      },
      put: async (name, ref, content, contentType) => {
        const result = await manifests.put(name, ref, content, contentType);
        const tagged = 'tag' in ref ? subjectOfSignatureTag(ref.tag) : undefined;
        if (tagged) this.signatureChanged(name, tagged);
        if (result.subject) this.signatureChanged(name, result.subject.value);
        return result;
      },
      delete: async (name, ref) => {
        await manifests.delete(name, ref);
        // A deleted signature may be anyone's: forget the repository's verdicts.
        this.#cache.dropRepository(name);
      },
    });
    return decorate<Registry>(registry, { manifests: guarded });
  }

  async #admit(name: string, m: StoredManifest, ctx: RequestContext, judgedAtFetch?: (name: string, ns: string | undefined) => Promise<boolean>): Promise<void> {
    const policy = (await this.catalog.current()).match(name);
    if (!policy || policy.mode === 'off') return;
    if (ctx.user !== undefined && policy.exempt.has(ctx.user)) return;
    // A cache whose upstream has `verify:` stored only what passed at fetch; its signatures are
    // upstream, not here, so judging the copy against local signatures would refuse it.
    if (judgedAtFetch && (await judgedAtFetch(name, ctx.ns))) return;
    const answer = await this.verdict(name, m.digest.value, { policy, manifest: m });
    const verdict = answer!.verdict;
    if (verdict.verified || (await this.#coveredByIndex(name, m.digest.value, policy))) return;
    await this.#reporter?.unverifiedRead(verdict, ctx, !answer!.cached);
    if (policy.mode !== 'enforce') return;
    const message = `policy "${policy.name}" requires a valid signature on ${name}@${m.digest.value}: ${whyUnverified(verdict)}. Satisfied by ${policy.satisfiedBy}`;
    throw new RegistryError('DENIED', { policy: policy.name, repository: name, digest: m.digest.value, reason: whyUnverified(verdict), satisfiedBy: policy.satisfiedBy }, { message });
  }

  #cover(repository: string, index: string, parsed: ParsedManifest): void {
    for (const child of parsed.manifests) {
      this.#covered.delete(`${repository}@${child.digest}`);
      this.#covered.set(`${repository}@${child.digest}`, index);
    }
    while (this.#covered.size > this.#coveredLimit) this.#covered.delete(this.#covered.keys().next().value!);
  }

  /** Whether a verified index (verdict still standing) lists this manifest. */
  async #coveredByIndex(repository: string, digest: string, policy: TrustPolicy): Promise<boolean> {
    const index = this.#covered.get(`${repository}@${digest}`);
    if (!index) return false;
    const answer = await this.verdict(repository, index, { policy });
    return answer?.verdict.verified === true;
  }
}
