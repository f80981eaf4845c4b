// Finds the signatures of one image: cosign's `sha256-<hex>.sig` tag in the same repository,
// and the referrers that are cosign signatures, Sigstore bundles or Notation signatures.
// Only what is needed to judge them is read, within fixed bounds (signatures are small; a
// repository flooded with referrers must not make a pull read without end).
import { parseManifest, type Descriptor } from '../oci/manifest.js';
import { tryParseDigest } from '../oci/digest.js';
import type { SignatureSource } from './source.js';
import {
  COSIGN_ARTIFACT_TYPE, COSIGN_SIMPLE_SIGNING, NOTATION_ARTIFACT_TYPE, NOTATION_JWS, SIGSTORE_BUNDLE, cosignSignatureTag,
} from './formats.js';

/** A signature blob (or payload) larger than this is not read. */
export const MAX_SIGNATURE_BYTES = 1024 * 1024;
/** Signature artifacts read per image at most. */
export const MAX_SIGNATURES = 32;

export type FoundSignature =
  | { kind: 'cosign'; via: 'tag' | 'referrers'; manifest: string; payload: Buffer; annotations: Record<string, string> }
  | { kind: 'sigstore-bundle'; via: 'referrers'; manifest: string; bundle: Buffer }
  | { kind: 'notation'; via: 'referrers'; manifest: string; envelope: Buffer; mediaType: string };

export interface Discovery {
  signatures: FoundSignature[];
  /** Artifacts that looked like signatures but could not be read (and why). */
  unreadable: string[];
}

export async function discoverSignatures(source: SignatureSource, repository: string, digest: string): Promise<Discovery> {
  const parsed = tryParseDigest(digest);
  if (typeof parsed === 'string') throw new Error(`"${digest}" is not a digest`);
  const out: Discovery = { signatures: [], unreadable: [] };
  const tagged = await source.manifest(repository, cosignSignatureTag(parsed));
  if (tagged) await readCosign(source, repository, tagged.digest, tagged.bytes, 'tag', out);
  const referrers = (await source.referrers(repository, digest)).filter((d) => isSignatureReferrer(d)).slice(0, MAX_SIGNATURES);
  await Promise.all(referrers.map(async (d) => {
    try {
      const m = await source.manifest(repository, d.digest);
      if (!m) return;
      if (d.artifactType === COSIGN_ARTIFACT_TYPE) await readCosign(source, repository, m.digest, m.bytes, 'referrers', out);
      else await readSingleLayer(source, repository, m.digest, m.bytes, d.artifactType!, out);
    } catch (err) {
      out.unreadable.push(`${d.digest}: ${(err as Error).message}`);
    }
  }));
  return out;
}

function isSignatureReferrer(d: Descriptor): boolean {
  return d.artifactType === COSIGN_ARTIFACT_TYPE || d.artifactType === SIGSTORE_BUNDLE || d.artifactType === NOTATION_ARTIFACT_TYPE;
}

async function readCosign(source: SignatureSource, repository: string, manifest: string, bytes: Buffer, via: 'tag' | 'referrers', out: Discovery): Promise<void> {
  let layers: Descriptor[];
  try {
    layers = layersOf(bytes).filter((l) => l.mediaType === COSIGN_SIMPLE_SIGNING).slice(0, MAX_SIGNATURES);
  } catch (err) {
    // A malformed signature image (an upstream's, say) leaves the image unsigned; it is no failure to read.
    out.unreadable.push(`${manifest}: ${(err as Error).message}`);
    return;
  }
  for (const layer of layers) {
    try {
      const payload = await source.blob(repository, layer.digest, MAX_SIGNATURE_BYTES);
      out.signatures.push({ kind: 'cosign', via, manifest, payload, annotations: layer.annotations ?? {} });
    } catch (err) {
      out.unreadable.push(`${manifest} layer ${layer.digest}: ${(err as Error).message}`);
    }
  }
}

async function readSingleLayer(source: SignatureSource, repository: string, manifest: string, bytes: Buffer, artifactType: string, out: Discovery): Promise<void> {
  const layers = layersOf(bytes);
  if (artifactType === SIGSTORE_BUNDLE) {
    const layer = layers.find((l) => l.mediaType === SIGSTORE_BUNDLE);
    if (!layer) throw new Error('no layer holds the bundle');
    out.signatures.push({ kind: 'sigstore-bundle', via: 'referrers', manifest, bundle: await source.blob(repository, layer.digest, MAX_SIGNATURE_BYTES) });
    return;
  }
  const layer = layers.find((l) => l.mediaType === NOTATION_JWS);
  if (!layer) throw new Error(`no ${NOTATION_JWS} envelope (COSE envelopes are not supported)`);
  out.signatures.push({ kind: 'notation', via: 'referrers', manifest, mediaType: layer.mediaType, envelope: await source.blob(repository, layer.digest, MAX_SIGNATURE_BYTES) });
}

/** The layers of an image manifest (the config is the first of `blobs`). */
function layersOf(bytes: Buffer): Descriptor[] {
  const parsed = parseManifest(bytes);
  return parsed.kind === 'image' ? parsed.blobs.slice(1) : [];
}
