// The signed material the Notary Project and Sigstore publish (test/trust/fixtures/README.md
// says where each file comes from): read as published, and a blob named by its digest is
// checked against that digest so a test never runs on altered bytes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256, type Manifest } from '../../support/oci-fixtures.js';

export const FIXTURES = fileURLToPath(new URL('../../../../test/trust/fixtures/', import.meta.url));

export function fixture(path: string): Buffer {
  const bytes = readFileSync(join(FIXTURES, path));
  const name = path.split('/').pop()!;
  if (/^[0-9a-f]{64}$/.test(name)) assert.equal(sha256(bytes), `sha256:${name}`, `${path} is not the published file`);
  return bytes;
}

export const asManifest = (body: Buffer, mediaType: string): Manifest => ({ body, digest: sha256(body), mediaType, json: JSON.parse(body.toString('utf8')) as Record<string, unknown> });

/** notaryproject/notation test/e2e/testdata: an image signed by `notation sign` (JWS, PS256) and the signature manifest notation pushed. */
export const NOTATION = {
  config: fixture('notation/blobs/sha256/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'),
  layer: fixture('notation/blobs/sha256/6de5fe1f75e4b1094c98086f403d5fd8117776ebe5aad1609281403d13dea070'),
  image: fixture('notation/blobs/sha256/b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9'),
  signatureManifest: fixture('notation/blobs/sha256/90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f'),
  envelope: fixture('notation/blobs/sha256/c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50'),
  subject: 'x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=e2e',
};
