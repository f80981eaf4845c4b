// `trust`: content-trust policies (src/trust). Each policy covers repositories by glob and says
// which signatures count (cosign keys, cosign certificates chained to roots, Sigstore bundles
// checked against a trusted root, Notation signatures chained to a trust store) and what happens
// to an image without one: `off`, `audit` (served, but logged, audited and counted) or `enforce`
// (manifest reads refused with DENIED). Files are read at start, never fetched.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { millis, notSecret, strict } from './common.js';
import { globProblem } from './replication.js';

/** A signer identity: the certificate's subject alternative name (a glob) and OIDC issuer (Fulcio's extension). */
const Identity = Type.Object({
  subject: Type.String({ minLength: 1 }),
  issuer: Type.Optional(Type.String({ minLength: 1 })),
}, strict);

const Policy = Type.Object({
  /** Names the policy in refusals, verdicts and audit entries; defaults to "policy-<index>". */
  name: Type.Optional(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$' })),
  /**
   * Repository globs (`*` any run of characters, `?` one, `{a,b}` alternatives); the first
   * matching policy applies. None: the policy judges only what upstreams naming it in
   * `proxy.upstreams[].verify` fetch.
   */
  repositories: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  mode: Type.Union([Type.Literal('off'), Type.Literal('audit'), Type.Literal('enforce')], { default: 'audit' }),
  /** cosign public keys (PEM: ECDSA P-256/P-384, RSA, Ed25519). */
  keys: Type.Array(Type.String({ minLength: 1 }), { default: [], ...notSecret('paths of public keys') }),
  /** cosign certificates (keyless): accepted when they chain to one of `roots` and name one of `identities` (any, when empty). */
  certificates: Type.Optional(Type.Object({
    roots: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    identities: Type.Array(Identity, { default: [] }),
  }, strict)),
  /** Rekor's public key (PEM): a cosign signature's Rekor bundle is checked against it, and a certificate is judged at the logged time. */
  rekorkey: Type.Optional(Type.String({ minLength: 1, ...notSecret('the path of a public key') })),
  /** Sigstore bundles (cosign v3): a trusted_root.json and the identities accepted. */
  sigstore: Type.Optional(Type.Object({
    trustedroot: Type.String({ minLength: 1 }),
    identities: Type.Array(Identity, { default: [] }),
    /** Transparency-log entries a bundle must carry (0 for a private deployment without Rekor, with a timestamp authority). */
    tlogthreshold: Type.Integer({ minimum: 0, default: 1 }),
  }, strict)),
  /** Notation (notary project) signatures: an x509 trust store and the identities (`x509.subject` values, or `*`) accepted. */
  notation: Type.Optional(Type.Object({
    truststore: Type.String({ minLength: 1 }),
    identities: Type.Array(Type.String({ minLength: 1 }), { default: ['*'] }),
  }, strict)),
  /** Users and robots that may read unsigned content (signers, build systems). */
  exempt: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
}, strict);

/**
 * Notation's own files: a `trustpolicy.json` (Notary Project trust policy, version "1.0") and the
 * trust store directory holding `x509/<type>/<name>/`. Each statement of the document becomes a
 * policy named as the statement is, after `policies` (which match first); statements naming a
 * scope match before the wildcard `*` one. The document is read and checked at start.
 */
const NotationFiles = Type.Object({
  trustpolicy: Type.String({ minLength: 1 }),
  truststore: Type.String({ minLength: 1 }),
  /**
   * The registry names clients use for this Berth (`registry.example.com`, `localhost:5000`):
   * the scope `registry.example.com/prod/app` covers repository `prod/app` when its host is one of
   * these; scopes of other registries cover nothing here.
   */
  registries: Type.Array(Type.String({ minLength: 1, pattern: '^[^/*\\s]+$' }), { minItems: 1 }),
  /** Users and robots that may read unsigned content under these policies (signers, build systems). */
  exempt: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
}, strict);

export const TrustSection = Type.Object({
  policies: Type.Array(Policy, { default: [] }),
  notation: Type.Optional(NotationFiles),
  /** Verdicts kept in memory, per (digest, policy). */
  cachesize: Type.Integer({ minimum: 1, default: 10000 }),
  /** How long a verdict is kept: a signature pushed through another replica is seen after this. */
  cachettl: millis('10m'),
}, { ...strict, default: {} });

/** What makes the configuration of one policy wrong beyond its shape (no way to be satisfied). */
export function trustConfigProblems(
  trust: { policies: { name?: string | undefined; repositories: string[]; mode: string; keys: string[]; certificates?: unknown; sigstore?: unknown; notation?: unknown }[]; notation?: unknown },
  verifies: { key: string; policy: string }[] = [],
): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  trust.policies.forEach((p, i) => {
    const name = p.name ?? `policy-${i}`;
    if (names.has(name)) problems.push(`trust.policies[${i}].name: "${name}" is used twice`);
    names.add(name);
    if (p.repositories.length === 0 && !verifies.some((v) => v.policy === name)) {
      problems.push(`trust.policies[${i}].repositories: empty, and no proxy upstream's verify names "${name}": the policy would judge nothing`);
    }
    p.repositories.forEach((glob, j) => {
      const why = globProblem(glob);
      if (why) problems.push(`trust.policies[${i}].repositories[${j}]: "${glob}" is not a valid glob: ${why}`);
    });
    if (p.mode !== 'off' && p.keys.length === 0 && !p.certificates && !p.sigstore && !p.notation) {
      problems.push(`trust.policies[${i}]: mode ${p.mode} needs keys, certificates, sigstore or notation to check signatures against`);
    }
  });
  for (const v of verifies) {
    // The statements of a trustpolicy.json are policies too; their names are known once the
    // document is read, at start (src/trust/from-config.ts checks them there).
    if (!names.has(v.policy) && trust.notation === undefined) problems.push(`${v.key}: no trust policy is named "${v.policy}"${names.size ? ` (trust.policies has ${[...names].join(', ')})` : ' (trust.policies is empty)'}`);
  }
  return problems;
}

const Pem = Type.String({ minLength: 1, ...notSecret('public keys and certificates (PEM)') });

/**
 * A policy sent to the admin API (`PUT /api/v1/trust/policies/NAME`) or `berth trust policy put`:
 * config.yml's shape, but with the key material itself (PEM text, a trusted_root.json document)
 * where config.yml names files, since the caller is remote. Stored in the metadata database.
 */
export const TrustPolicyBodySchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' }),
  /** At least one: no upstream's `verify:` can name a stored policy, so it would judge nothing. */
  repositories: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  mode: Type.Union([Type.Literal('off'), Type.Literal('audit'), Type.Literal('enforce')], { default: 'audit' }),
  keys: Type.Array(Pem, { default: [] }),
  certificates: Type.Optional(Type.Object({
    roots: Type.Array(Pem, { minItems: 1 }),
    identities: Type.Array(Identity, { default: [] }),
  }, strict)),
  rekorkey: Type.Optional(Pem),
  sigstore: Type.Optional(Type.Object({
    /** The trusted_root.json document itself. */
    trustedroot: Type.Object({}, { additionalProperties: true }),
    identities: Type.Array(Identity, { default: [] }),
    tlogthreshold: Type.Integer({ minimum: 0, default: 1 }),
  }, strict)),
  notation: Type.Optional(Type.Object({
    /** The trust store's root certificates (PEM; a bundle may hold several). */
    roots: Type.Array(Pem, { minItems: 1 }),
    identities: Type.Array(Type.String({ minLength: 1 }), { default: ['*'] }),
  }, strict)),
  exempt: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
}, strict);

export type TrustPolicyBody = Static<typeof TrustPolicyBodySchema>;

/** A stored policy's problems beyond its shape, each naming its key under `where`. */
export function trustPolicyBodyProblems(p: TrustPolicyBody, where: string): string[] {
  const problems: string[] = [];
  p.repositories.forEach((glob, j) => {
    const why = globProblem(glob);
    if (why) problems.push(`${where}.repositories[${j}]: "${glob}" is not a valid glob: ${why}`);
  });
  if (p.mode !== 'off' && p.keys.length === 0 && !p.certificates && !p.sigstore && !p.notation) {
    problems.push(`${where}: mode ${p.mode} needs keys, certificates, sigstore or notation to check signatures against`);
  }
  return problems;
}
