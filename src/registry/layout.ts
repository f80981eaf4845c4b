// Where everything lives: CNCF Distribution's v2 storage layout, so that a directory or bucket
// written by `registry:2` is served as is and the reverse. Referrers are an addition under
// `_referrers/`, which Distribution's catalog walk and GC skip (they ignore `_`-prefixed dirs
// other than the ones they know).
import type { Digest } from '../oci/digest.js';

export const ROOT = '/docker/registry/v2';
export const REPOSITORIES = `${ROOT}/repositories`;

export const layout = {
  blobData: (d: Digest) => `${ROOT}/blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}/data`,
  repository: (name: string) => `${REPOSITORIES}/${name}`,
  layerLink: (name: string, d: Digest) => `${REPOSITORIES}/${name}/_layers/${d.algorithm}/${d.hex}/link`,
  revisionLink: (name: string, d: Digest) =>
    `${REPOSITORIES}/${name}/_manifests/revisions/${d.algorithm}/${d.hex}/link`,
  tags: (name: string) => `${REPOSITORIES}/${name}/_manifests/tags`,
  tag: (name: string, tag: string) => `${REPOSITORIES}/${name}/_manifests/tags/${tag}`,
  tagCurrentLink: (name: string, tag: string) => `${REPOSITORIES}/${name}/_manifests/tags/${tag}/current/link`,
  tagIndexLink: (name: string, tag: string, d: Digest) =>
    `${REPOSITORIES}/${name}/_manifests/tags/${tag}/index/${d.algorithm}/${d.hex}/link`,
  upload: (name: string, id: string) => `${REPOSITORIES}/${name}/_uploads/${id}`,
  uploadData: (name: string, id: string) => `${REPOSITORIES}/${name}/_uploads/${id}/data`,
  uploadStartedAt: (name: string, id: string) => `${REPOSITORIES}/${name}/_uploads/${id}/startedat`,
  referrersOf: (name: string, subject: Digest) =>
    `${REPOSITORIES}/${name}/_referrers/${subject.algorithm}/${subject.hex}`,
  referrerLink: (name: string, subject: Digest, referrer: Digest) =>
    `${REPOSITORIES}/${name}/_referrers/${subject.algorithm}/${subject.hex}/${referrer.algorithm}/${referrer.hex}/link`,
};

/**
 * Berth's online GC marks content it is about to delete here (the file holds the mark's expiry);
 * a manifest PUT refuses to reference marked content (src/gc/sweep.ts explains the protocol).
 */
export const gcPending = (d: Digest) => `${ROOT}/_berth/gc/pending/${d.algorithm}/${d.hex}`;

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
