// The trust policies of a configuration, resolved: repository globs compiled, trust material
// loaded, and a sentence saying what satisfies each (shown to a client that is refused).
import { globToRegExp } from '../policy/patterns.js';
import type { X509Certificate } from 'node:crypto';
import { ConfigError } from '../config/load.js';
import { loadInlineMaterial, loadMaterial, type PolicyFiles, type PolicyMaterial } from './material.js';
import type { TrustPolicyBody } from '../config/sections/trust.js';
import { NotationPolicyError, readNotationPolicy, readTrustStore, type NotationStatement } from './notation-policy.js';

export type TrustMode = 'off' | 'audit' | 'enforce';

export interface TrustPolicy {
  readonly name: string;
  readonly mode: TrustMode;
  readonly repositories: string[];
  readonly exempt: ReadonlySet<string>;
  readonly material: PolicyMaterial;
  /** What would satisfy the policy, for refusals and verdicts. */
  readonly satisfiedBy: string;
}

export interface PolicyConfig extends PolicyFiles {
  name?: string | undefined;
  repositories: string[];
  mode: TrustMode;
  exempt: string[];
}

/** `trust.notation`: a Notation trust policy document and its trust store. */
export interface NotationFilesConfig {
  trustpolicy: string;
  truststore: string;
  registries: string[];
  exempt: string[];
}

type Entry = { policy: TrustPolicy; patterns: RegExp[] };

export class TrustPolicies {
  #list: Entry[];
  /** Where config.yml's `trust.policies` end and the trustpolicy.json statements begin. */
  #notationFrom: number;

  constructor(configs: PolicyConfig[], notation?: NotationFilesConfig) {
    this.#notationFrom = configs.length;
    this.#list = configs.map((c, i) => {
      const key = `trust.policies[${i}]`;
      const material = c.mode === 'off' ? { keys: [] } : loadMaterial(c, key);
      const policy: TrustPolicy = {
        name: c.name ?? `policy-${i}`, mode: c.mode, repositories: c.repositories, exempt: new Set(c.exempt), material, satisfiedBy: describe(c),
      };
      return { policy, patterns: c.repositories.map(globToRegExp) };
    });
    if (notation) {
      const taken = new Set(this.#list.map((p) => p.policy.name));
      for (const policy of notationPolicies(notation)) {
        if (taken.has(policy.name)) throw new ConfigError([`trust.notation.trustpolicy: ${notation.trustpolicy}: statement "${policy.name}" has the name of a policy of trust.policies`]);
        // Scopes are exact repository names; only the wildcard statement's `*` is a pattern.
        const patterns = policy.repositories.map((r) => (r === '*' ? /^/ : new RegExp(`^${r.replace(/[.+^$()|[\]\\{}*?]/g, '\\$&')}$`)));
        this.#list.push({ policy, patterns });
      }
    }
  }

  /**
   * These policies and those stored through the admin API, which match after config.yml's
   * `trust.policies` and before the trustpolicy.json statements (whose `*` would shadow them).
   */
  withStored(stored: TrustPolicy[]): TrustPolicies {
    const combined = new TrustPolicies([]);
    const entries = stored.map((policy) => ({ policy, patterns: policy.repositories.map(globToRegExp) }));
    combined.#list = [...this.#list.slice(0, this.#notationFrom), ...entries, ...this.#list.slice(this.#notationFrom)];
    combined.#notationFrom = this.#notationFrom + entries.length;
    return combined;
  }

  /** The first policy whose globs match `repository`. */
  match(repository: string): TrustPolicy | undefined {
    return this.#list.find((p) => p.patterns.some((re) => re.test(repository)))?.policy;
  }

  /** The policy of that name (an upstream's `verify:` names one). */
  named(name: string): TrustPolicy | undefined {
    return this.#list.find((p) => p.policy.name === name)?.policy;
  }

  get all(): TrustPolicy[] {
    return this.#list.map((p) => p.policy);
  }

  get size(): number {
    return this.#list.length;
  }
}

/**
 * The statements of a trustpolicy.json as policies, scoped ones first and the wildcard last, so
 * an exact scope wins over `*` as in notation. Each statement's `ca:` stores are its roots;
 * `signingAuthority:` and `tsa:` stores are read (a missing one fails start, as it fails notation)
 * but chain nothing: Berth reads the notary.x509 signing scheme only and checks no timestamp.
 */
function notationPolicies(n: NotationFilesConfig): TrustPolicy[] {
  const key = 'trust.notation';
  let statements: NotationStatement[];
  try {
    statements = readNotationPolicy(n.trustpolicy, n.registries);
  } catch (err) {
    if (err instanceof NotationPolicyError) throw new ConfigError(err.problems.map((p) => `${key}.trustpolicy: ${n.trustpolicy}: ${p}`));
    throw err;
  }
  const ordered = [...statements.filter((s) => !s.wildcard), ...statements.filter((s) => s.wildcard)];
  return ordered.map((s) => {
    const roots: X509Certificate[] = [];
    for (const store of s.trustStores) {
      try {
        const certs = readTrustStore(n.truststore, store.type, store.name);
        if (store.type === 'ca') roots.push(...certs);
      } catch (err) {
        throw new ConfigError([`${key}.truststore: statement "${s.name}" of ${n.trustpolicy}: ${(err as Error).message}`]);
      }
    }
    const material: PolicyMaterial = s.mode === 'off' ? { keys: [] } : { keys: [], notation: { roots, identities: s.identities, expiry: s.actions.expiry === 'enforce' ? 'enforce' : 'log' } };
    const who = s.identities.includes('*') ? '' : ` by ${s.identities.join(' or ')}`;
    return {
      name: s.name, mode: s.mode, repositories: s.repositories, exempt: new Set(n.exempt), material,
      satisfiedBy: `a Notation signature chaining to the trust store${s.trustStores.length > 1 ? 's' : ''} ${s.trustStores.map((t) => `${t.type}:${t.name}`).join(', ')} of ${n.truststore}${who} (statement "${s.name}" of ${n.trustpolicy})`,
    };
  });
}

/** A policy the admin API stored, resolved; its material refused with the key named (`where.keys[0]: ...`). */
export function storedPolicy(body: TrustPolicyBody, where: string): TrustPolicy {
  const material = body.mode === 'off' ? { keys: [] } : loadInlineMaterial(body, where);
  return { name: body.name, mode: body.mode, repositories: body.repositories, exempt: new Set(body.exempt), material, satisfiedBy: describeStored(body, material) };
}

function describeStored(b: TrustPolicyBody, material: PolicyMaterial): string {
  const ways: string[] = [];
  const keys = material.keys.map((k) => k.name);
  if (keys.length > 0) ways.push(`a cosign signature verifying with ${keys.length === 1 ? 'the key' : 'one of the keys'} ${keys.join(', ')}`);
  if (b.certificates) {
    const who = b.certificates.identities.map((i) => `${i.subject}${i.issuer ? ` from ${i.issuer}` : ''}`).join(', ');
    const subjects = material.certificates?.roots.map((c) => c.subject.replace(/\n/g, ', ')) ?? [];
    ways.push(`a cosign certificate signature chaining to ${subjects.join('; ') || 'the policy\'s roots'}${who ? ` by ${who}` : ''}`);
  }
  if (b.sigstore) ways.push(`a Sigstore bundle verifying with the policy's trusted root`);
  if (b.notation) ways.push(`a Notation signature chaining to the policy's roots${b.notation.identities.includes('*') ? '' : ` by ${b.notation.identities.join(', ')}`}`);
  return `${ways.join('; or ')} (policy "${b.name}", stored through the admin API)`;
}

function describe(c: PolicyConfig): string {
  const ways: string[] = [];
  if (c.keys.length > 0) ways.push(`a cosign signature verifying with ${c.keys.length === 1 ? 'the key' : 'one of the keys'} ${c.keys.join(', ')}`);
  if (c.certificates) {
    const who = c.certificates.identities.map((i) => `${i.subject}${i.issuer ? ` from ${i.issuer}` : ''}`).join(', ');
    ways.push(`a cosign certificate signature chaining to ${c.certificates.roots.join(', ')}${who ? ` by ${who}` : ''}`);
  }
  if (c.sigstore) ways.push(`a Sigstore bundle verifying with the trusted root ${c.sigstore.trustedroot}`);
  if (c.notation) ways.push(`a Notation signature chaining to the trust store ${c.notation.truststore}${c.notation.identities.includes('*') ? '' : ` by ${c.notation.identities.join(', ')}`}`);
  return ways.join('; or ');
}
