// cosign's Rekor bundle (the `dev.sigstore.cosign/bundle` annotation): the transparency log's
// signed entry timestamp over the entry it logged. Checked offline with Rekor's public key: the
// SET verifies over the canonical JSON of the entry, the log ID is that key's, and the logged
// hashedrekord names this signature and this payload. Canonical JSON is Sigstore's own.
import { createHash, verify, type KeyObject } from 'node:crypto';
import { json } from '@sigstore/core';

interface RekorBundle {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

interface HashedRekord {
  kind: string;
  apiVersion: string;
  spec: { signature?: { content?: string; publicKey?: { content?: string } }; data?: { hash?: { algorithm?: string; value?: string } } };
}

/** Checks the bundle; returns the time Rekor logged the signature, or throws why it fails. */
export function verifyRekorBundle(text: string, rekorKey: KeyObject, signature: string, payload: Buffer): Date {
  let bundle: RekorBundle;
  try {
    bundle = JSON.parse(text) as RekorBundle;
  } catch {
    throw new Error('the Rekor bundle is not JSON');
  }
  const p = bundle.Payload;
  if (!p || typeof p.body !== 'string' || typeof p.integratedTime !== 'number' || typeof p.logID !== 'string' || typeof bundle.SignedEntryTimestamp !== 'string') {
    throw new Error('the Rekor bundle lacks its payload or signed entry timestamp');
  }
  const logId = createHash('sha256').update(rekorKey.export({ type: 'spki', format: 'der' })).digest('hex');
  if (p.logID !== logId) throw new Error(`the Rekor bundle is from log ${p.logID}, not the configured Rekor key's ${logId}`);
  const signed = Buffer.from(json.canonicalize({ body: p.body, integratedTime: p.integratedTime, logIndex: p.logIndex, logID: p.logID }), 'utf8');
  if (!verify('sha256', signed, rekorKey, Buffer.from(bundle.SignedEntryTimestamp, 'base64'))) {
    throw new Error('the Rekor signed entry timestamp does not verify with the configured Rekor key');
  }
  let entry: HashedRekord;
  try {
    entry = JSON.parse(Buffer.from(p.body, 'base64').toString('utf8')) as HashedRekord;
  } catch {
    throw new Error('the Rekor entry is not JSON');
  }
  if (entry.kind !== 'hashedrekord') throw new Error(`the Rekor entry is a ${entry.kind}, not a hashedrekord`);
  if (entry.spec.signature?.content !== signature) throw new Error('the Rekor entry logs another signature');
  const hash = createHash('sha256').update(payload).digest('hex');
  if (entry.spec.data?.hash?.value !== hash) throw new Error('the Rekor entry logs another payload');
  return new Date(p.integratedTime * 1000);
}
