// Notary Project signatures (Notation) in JWS JSON serialization: jose verifies the envelope
// with the signing certificate's key, the certificate chain (the envelope's x5c) must end at a
// certificate of the policy's trust store, the signed payload must name this image's digest,
// and the signer's x509 subject must be one the policy trusts.
import { X509Certificate } from 'node:crypto';
import { flattenedVerify, type FlattenedJWSInput } from 'jose';
import { NOTATION_PAYLOAD } from './formats.js';
import { accept, refuse, type Check } from './check.js';
import type { PolicyMaterial } from './material.js';
import { verifyChain } from './x509-chain.js';
import { identityAcceptsCertificate } from './notation-policy.js';

const ALGORITHMS = ['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
// Extended header parameters Notation marks critical; each is understood (read below) or harmless.
const CRITICAL = { 'io.cncf.notary.signingScheme': true, 'io.cncf.notary.expiry': true, 'io.cncf.notary.authenticSigningTime': true, 'io.cncf.notary.verificationPlugin': false, 'io.cncf.notary.verificationPluginMinVersion': false };

type Envelope = FlattenedJWSInput;

interface Protected {
  cty?: string;
  'io.cncf.notary.signingScheme'?: string;
  'io.cncf.notary.signingTime'?: string;
  'io.cncf.notary.expiry'?: string;
}

export async function checkNotation(text: Buffer, digest: string, material: PolicyMaterial, now: Date): Promise<Check> {
  const notation = material.notation;
  if (!notation) return refuse('a Notation signature, and the policy names no Notation trust store');
  let envelope: Envelope;
  try {
    envelope = JSON.parse(text.toString('utf8')) as Envelope;
  } catch {
    return refuse('the Notation envelope is not JSON');
  }
  const x5c: unknown = envelope.header?.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => typeof c === 'string')) return refuse('the Notation envelope carries no certificate chain (x5c)');
  let chain: X509Certificate[];
  try {
    chain = (x5c as string[]).map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch {
    return refuse('the Notation envelope\'s x5c holds something that is not a certificate');
  }
  const leaf = chain[0]!;
  let verified: Awaited<ReturnType<typeof flattenedVerify>>;
  try {
    verified = await flattenedVerify(envelope, leaf.publicKey, { algorithms: ALGORITHMS, crit: CRITICAL });
  } catch (err) {
    return refuse(`the Notation signature does not verify: ${(err as Error).message}`);
  }
  const header = verified.protectedHeader as Protected;
  if (header.cty !== NOTATION_PAYLOAD) return refuse(`the Notation payload is ${header.cty ?? 'untyped'}, not ${NOTATION_PAYLOAD}`);
  if (header['io.cncf.notary.signingScheme'] !== 'notary.x509') return refuse(`signing scheme ${header['io.cncf.notary.signingScheme'] ?? '(none)'} is not supported (notary.x509 is)`);
  const expiry = header['io.cncf.notary.expiry'];
  // A trustpolicy.json statement at level permissive or audit only logs an expired signature.
  const expired = expiry !== undefined && !(new Date(expiry) > now);
  if (expired && notation.expiry !== 'log') return refuse(`the Notation signature expired at ${expiry}`);
  let payload: { targetArtifact?: { digest?: unknown } };
  try {
    payload = JSON.parse(Buffer.from(verified.payload).toString('utf8')) as typeof payload;
  } catch {
    return refuse('the Notation payload is not JSON');
  }
  const named = payload.targetArtifact?.digest;
  if (named !== digest) return refuse(`the Notation payload signs ${typeof named === 'string' ? named : 'no digest'}, not ${digest}`);
  try {
    verifyChain(leaf, chain.slice(1), notation.roots, now);
  } catch (err) {
    return refuse((err as Error).message);
  }
  const subject = leaf.subject;
  if (!notation.identities.some((id) => identityAcceptsCertificate(id, leaf))) {
    return refuse(`signed by x509.subject ${subject.replaceAll('\n', ', ')}, not a trusted identity`);
  }
  return accept(`Notation x509.subject ${subject.replaceAll('\n', ', ')}${expired ? ` (expired at ${expiry}, logged only)` : ''}`);
}
