// Signature artifacts built the way the signing tools build them, from their specifications,
// for a registry without cosign or notation binaries (neither is packaged by Debian):
// - cosign (specs/SIGNATURE_SPEC.md): the simple-signing payload signed by the openssl CLI,
//   one layer of the `sha256-<hex>.sig` image with the signature, certificate, chain and Rekor
//   bundle annotations, or the same layer in a referrer of artifact type
//   application/vnd.dev.cosign.artifact.sig.v1+json;
// - Rekor (hashedrekord and dsse v0.0.1 entries, signed entry timestamps over canonical JSON);
// - Sigstore bundle v0.3 (protobuf-specs' JSON: DSSE over an in-toto statement naming the image)
//   and a trusted_root.json naming the test CA and log;
// - Notation (notaryproject specs: JWS JSON serialization, notary.x509 scheme, payload
//   `targetArtifact`, signature manifest of artifact type application/vnd.cncf.notary.signature).
import { X509Certificate, createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlattenedSign } from 'jose';
import { mustRun } from '../../e2e/support/run.js';
import { blob, sha256, type Blob, type Manifest, OCI_MANIFEST, EMPTY_CONFIG } from '../../support/oci-fixtures.js';
import { pushBlob, pushManifest } from '../../support/push.js';

export const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

export function simpleSigning(repository: string, digest: string): Buffer {
  return Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': repository }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
    optional: null,
  }));
}

/** Signs with the openssl CLI, as `cosign sign --key` would with that key (DER ECDSA, PKCS#1 v1.5 RSA, pure Ed25519). */
export async function opensslSign(dir: string, keyFile: string, data: Buffer): Promise<string> {
  const input = join(dir, `payload-${createHash('sha256').update(data).digest('hex').slice(0, 12)}-${Math.random().toString(36).slice(2)}`);
  await writeFile(input, data);
  const key = createPrivateKey(await readFile(keyFile));
  const out = `${input}.sig`;
  if (key.asymmetricKeyType === 'ed25519') await mustRun('openssl', ['pkeyutl', '-sign', '-rawin', '-inkey', keyFile, '-in', input, '-out', out]);
  else await mustRun('openssl', ['dgst', '-sha256', '-sign', keyFile, '-out', out, input]);
  return (await readFile(out)).toString('base64');
}

export interface CosignLayer {
  payload: Blob;
  annotations: Record<string, string>;
}

export function cosignLayer(payload: Buffer, annotations: Record<string, string>): CosignLayer {
  return { payload: blob(payload), annotations };
}

/** cosign's signature image: an empty config naming each payload as a diff ID, one layer per signature. */
export function cosignSignatureImage(layers: CosignLayer[]): { config: Blob; manifest: Manifest } {
  const config = blob(JSON.stringify({
    architecture: '', created: '0001-01-01T00:00:00Z', history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })), os: '',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.payload.digest) }, config: {},
  }));
  const json = {
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: SIMPLE_SIGNING, size: l.payload.size, digest: l.payload.digest, annotations: l.annotations })),
  };
  const body = Buffer.from(JSON.stringify(json));
  return { config, manifest: { body, digest: sha256(body), mediaType: OCI_MANIFEST, json } };
}

/** Pushes a cosign signature under `sha256-<hex>.sig`, or as a referrer of `subject`. */
export async function pushCosign(base: string, repository: string, subject: Manifest, layers: CosignLayer[], via: 'tag' | 'referrers' = 'tag'): Promise<string> {
  const { config, manifest } = cosignSignatureImage(layers);
  for (const l of layers) await pushBlob(base, repository, l.payload);
  if (via === 'tag') {
    await pushBlob(base, repository, config);
    await pushManifest(base, repository, `${subject.digest.replace(':', '-')}.sig`, manifest);
    return manifest.digest;
  }
  await pushBlob(base, repository, EMPTY_CONFIG);
  const json = {
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', size: EMPTY_CONFIG.size, digest: EMPTY_CONFIG.digest },
    layers: (manifest.json.layers as unknown[]),
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.body.length },
  };
  const body = Buffer.from(JSON.stringify(json));
  const m = { body, digest: sha256(body), mediaType: OCI_MANIFEST, json };
  await pushManifest(base, repository, m.digest, m);
  return m.digest;
}

/** The log ID of a Rekor key (PEM text, or the path of a PEM file). */
function logIdOf(pub: string): Buffer {
  const pubPem = pub.includes('-----BEGIN') ? pub : readFileSync(pub, 'utf8');
  return createHash('sha256').update(createPublicKey(pubPem).export({ type: 'spki', format: 'der' })).digest();
}

/** A Rekor signed entry timestamp over the entry, as Rekor computes it (canonical JSON, keys sorted). */
function signedEntryTimestamp(rekorKeyFile: string, body: string, integratedTime: number, logIndex: number, logID: string): string {
  const canonical = JSON.stringify({ body, integratedTime, logID, logIndex });
  return sign('sha256', Buffer.from(canonical), createPrivateKey(readFileSync(rekorKeyFile))).toString('base64');
}

/** cosign's `dev.sigstore.cosign/bundle` annotation for a hashedrekord entry of this signature. */
export function rekorBundle(rekor: { key: string; pub: string }, signature: string, payload: Buffer, signerPem: string, integratedTime = Math.floor(Date.now() / 1000)): string {
  const entry = {
    apiVersion: '0.0.1', kind: 'hashedrekord',
    spec: { data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } }, signature: { content: signature, publicKey: { content: Buffer.from(signerPem).toString('base64') } } },
  };
  const body = Buffer.from(JSON.stringify(entry)).toString('base64');
  const logID = logIdOf(rekor.pub).toString('hex');
  const logIndex = 4242;
  return JSON.stringify({
    SignedEntryTimestamp: signedEntryTimestamp(rekor.key, body, integratedTime, logIndex, logID),
    Payload: { body, integratedTime, logIndex, logID },
  });
}

/** A trusted_root.json naming the test Fulcio chain and Rekor key (protobuf-specs' JSON form). */
export function trustedRoot(fulcioChainPems: string[], rekorPubPem: string): string {
  const der = (pem: string) => new X509Certificate(pem).raw.toString('base64');
  return JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{
      baseUrl: 'https://rekor.test', hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: createPublicKey(rekorPubPem).export({ type: 'spki', format: 'der' }).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } },
      logId: { keyId: logIdOf(rekorPubPem).toString('base64') },
    }],
    certificateAuthorities: [{
      subject: { organization: 'sigstore.dev', commonName: 'sigstore' }, uri: 'https://fulcio.test',
      certChain: { certificates: fulcioChainPems.map((p) => ({ rawBytes: der(p) })) }, validFor: { start: '2020-01-01T00:00:00Z' },
    }],
    ctlogs: [], timestampAuthorities: [],
  });
}

function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

/** A Sigstore bundle v0.3 as cosign v3 writes for `cosign sign`: DSSE over an in-toto statement about the image, logged in Rekor. */
export function sigstoreBundle(o: { leafKeyPem: string; leafCertPem: string; rekor: { key: string; pub: string }; repository: string; digest: string; integratedTime?: number }): string {
  const [alg, hex] = o.digest.split(':') as [string, string];
  const statement = Buffer.from(JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1', subject: [{ name: o.repository, digest: { [alg]: hex } }],
    predicateType: 'https://sigstore.dev/cosign/sign/v1', predicate: {},
  }));
  const payloadType = 'application/vnd.in-toto+json';
  const sig = sign('sha256', pae(payloadType, statement), createPrivateKey(o.leafKeyPem));
  const envelope = { payload: statement.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64'), keyid: '' }] };
  const entry = {
    apiVersion: '0.0.1', kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: createHash('sha256').update(JSON.stringify(envelope)).digest('hex') },
      payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(statement).digest('hex') },
      signatures: [{ signature: sig.toString('base64'), verifier: Buffer.from(o.leafCertPem).toString('base64') }],
    },
  };
  const body = Buffer.from(JSON.stringify(entry)).toString('base64');
  const integratedTime = o.integratedTime ?? Math.floor(Date.now() / 1000);
  const logId = logIdOf(o.rekor.pub);
  const logIndex = 77;
  return JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: new X509Certificate(o.leafCertPem).raw.toString('base64') },
      tlogEntries: [{
        logIndex: String(logIndex), logId: { keyId: logId.toString('base64') }, kindVersion: { kind: 'dsse', version: '0.0.1' },
        integratedTime: String(integratedTime),
        inclusionPromise: { signedEntryTimestamp: signedEntryTimestamp(o.rekor.key, body, integratedTime, logIndex, logId.toString('hex')) },
        inclusionProof: inclusionProof(o.rekor, Buffer.from(body, 'base64'), logId),
        canonicalizedBody: body,
      }],
    },
    dsseEnvelope: envelope,
  });
}

/**
 * An RFC 6962 inclusion proof of `leaf` as the first of a two-entry log, with the log's signed
 * checkpoint (a signed note: origin, size, root hash; signature line `— <name> <b64(key hint + sig)>`).
 */
function inclusionProof(rekor: { key: string }, leaf: Buffer, logId: Buffer) {
  const h = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
  const leafHash = h(Buffer.from([0]), leaf);
  const sibling = h(Buffer.from([0]), Buffer.from('another entry'));
  const root = h(Buffer.from([1]), leafHash, sibling);
  const note = `rekor.test - 1193050959916656506\n2\n${root.toString('base64')}\n`;
  const sig = sign('sha256', Buffer.from(note), createPrivateKey(readFileSync(rekor.key)));
  const envelope = `${note}\n\u2014 rekor.test ${Buffer.concat([logId.subarray(0, 4), sig]).toString('base64')}\n`;
  return { logIndex: '0', rootHash: root.toString('base64'), treeSize: '2', hashes: [sibling.toString('base64')], checkpoint: { envelope } };
}

/** Pushes a bundle as cosign v3 does: an artifact of the bundle's media type, one layer, subject the image. */
export async function pushBundle(base: string, repository: string, subject: Manifest, bundleJson: string): Promise<string> {
  return pushArtifact(base, repository, subject, 'application/vnd.dev.sigstore.bundle.v0.3+json', blob(bundleJson), 'application/vnd.dev.sigstore.bundle.v0.3+json', {
    'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1',
  });
}

/** A Notation JWS envelope (notary.x509) over `targetArtifact`, signed by jose with the leaf key. */
export async function notationEnvelope(o: { leafKeyPem: string; chainPems: string[]; target: { mediaType: string; digest: string; size: number }; expiry?: Date }): Promise<string> {
  const payload = Buffer.from(JSON.stringify({ targetArtifact: o.target }));
  const protectedHeader: Record<string, unknown> = {
    alg: 'ES256', crit: ['io.cncf.notary.signingScheme', ...(o.expiry ? ['io.cncf.notary.expiry'] : [])], cty: 'application/vnd.cncf.notary.payload.v1+json',
    'io.cncf.notary.signingScheme': 'notary.x509', 'io.cncf.notary.signingTime': new Date().toISOString(),
    ...(o.expiry ? { 'io.cncf.notary.expiry': o.expiry.toISOString() } : {}),
  };
  const jws = await new FlattenedSign(payload)
    .setProtectedHeader(protectedHeader as { alg: string })
    .setUnprotectedHeader({ x5c: o.chainPems.map((p) => new X509Certificate(p).raw.toString('base64')), 'io.cncf.notary.signingAgent': 'notation-go/1.3.0' })
    .sign(createPrivateKey(o.leafKeyPem), { crit: { 'io.cncf.notary.signingScheme': true, 'io.cncf.notary.expiry': true } });
  return JSON.stringify(jws);
}

export async function pushNotation(base: string, repository: string, subject: Manifest, envelope: string, chainPems: string[]): Promise<string> {
  const thumbprints = chainPems.map((p) => new X509Certificate(p).fingerprint256.replaceAll(':', '').toLowerCase());
  return pushArtifact(base, repository, subject, 'application/vnd.cncf.notary.signature', blob(envelope), 'application/jose+json', {
    'io.cncf.notary.x509chain.thumbprint#S256': JSON.stringify(thumbprints),
  });
}

async function pushArtifact(base: string, repository: string, subject: Manifest, artifactType: string, layer: Blob, layerType: string, annotations: Record<string, string>): Promise<string> {
  await pushBlob(base, repository, EMPTY_CONFIG);
  await pushBlob(base, repository, layer);
  const json = {
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', size: EMPTY_CONFIG.size, digest: EMPTY_CONFIG.digest },
    layers: [{ mediaType: layerType, size: layer.size, digest: layer.digest }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.body.length },
    annotations,
  };
  const body = Buffer.from(JSON.stringify(json));
  await pushManifest(base, repository, sha256(body), { body, digest: sha256(body), mediaType: OCI_MANIFEST, json });
  return sha256(body);
}
