// Sigstore bundles (v0.3, cosign v3's default): verified by @sigstore/verify against the
// administrator's trusted root (certificate chain, transparency-log inclusion, timestamps, the
// signature itself). What is left to Berth: the bundle must be about this image (the in-toto
// statement's subject, or a message signature over this manifest's bytes) and its signer must
// be an accepted identity.
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity } from '@sigstore/verify';
import { IN_TOTO } from './formats.js';
import { accept, refuse, type Check } from './check.js';
import type { PolicyMaterial } from './material.js';
import { describeIdentity, identityAccepted } from './identity.js';

interface Statement {
  subject?: { digest?: Record<string, unknown> }[];
}

export function checkSigstoreBundle(text: Buffer, digest: string, manifestBytes: Buffer, material: PolicyMaterial): Check {
  const sigstore = material.sigstore;
  if (!sigstore) return refuse('a Sigstore bundle, and the policy names no Sigstore trusted root');
  let bundle: ReturnType<typeof bundleFromJSON>;
  try {
    bundle = bundleFromJSON(JSON.parse(text.toString('utf8')));
  } catch (err) {
    return refuse(`not a Sigstore bundle: ${(err as Error).message}`);
  }
  const about = bundleSubjectProblem(bundle, digest);
  if (about) return refuse(about);
  try {
    const signer = sigstore.verifier.verify(toSignedEntity(bundle, manifestBytes));
    const identity = { subject: signer.identity?.subjectAlternativeName, issuer: signer.identity?.extensions?.issuer };
    if (bundle.verificationMaterial.content.$case === 'publicKey') return accept(`Sigstore bundle, key ${bundle.verificationMaterial.content.publicKey.hint}`);
    if (!identityAccepted(identity, sigstore.identities)) return refuse(`Sigstore bundle signed by ${describeIdentity(identity)}, not an accepted identity`);
    return accept(`Sigstore bundle, ${describeIdentity(identity)}`);
  } catch (err) {
    return refuse(`Sigstore bundle: ${(err as Error).message}`);
  }
}

function bundleSubjectProblem(bundle: ReturnType<typeof bundleFromJSON>, digest: string): string | undefined {
  const [alg, hex] = digest.split(':') as [string, string];
  if (bundle.content.$case === 'messageSignature') {
    const d = bundle.content.messageSignature.messageDigest;
    // Checked again by the verifier against the manifest's bytes; this names the mismatch plainly.
    if (d && Buffer.from(d.digest).toString('hex') !== hex) return `the bundle signs ${Buffer.from(d.digest).toString('hex')}, not ${digest}`;
    return undefined;
  }
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO) return `the bundle's DSSE payload is ${envelope.payloadType}, not an in-toto statement`;
  let statement: Statement;
  try {
    statement = JSON.parse(Buffer.from(envelope.payload).toString('utf8')) as Statement;
  } catch {
    return 'the bundle\'s in-toto statement is not JSON';
  }
  if (!statement.subject?.some((s) => s.digest?.[alg] === hex)) return `the bundle's statement is not about ${digest}`;
  return undefined;
}
