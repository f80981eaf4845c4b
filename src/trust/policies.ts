// The trust policies of a configuration, resolved: repository globs compiled, trust material
// loaded, and a sentence saying what satisfies each (shown to a client that is refused).
import { globToRegExp } from '../policy/patterns.js';
import { loadMaterial, type PolicyFiles, type PolicyMaterial } from './material.js';

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

export class TrustPolicies {
  readonly #list: { policy: TrustPolicy; patterns: RegExp[] }[];

  constructor(configs: PolicyConfig[]) {
    this.#list = configs.map((c, i) => {
      const key = `trust.policies[${i}]`;
      const material = c.mode === 'off' ? { keys: [] } : loadMaterial(c, key);
      const policy: TrustPolicy = {
        name: c.name ?? `policy-${i}`, mode: c.mode, repositories: c.repositories, exempt: new Set(c.exempt), material, satisfiedBy: describe(c),
      };
      return { policy, patterns: c.repositories.map(globToRegExp) };
    });
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
