// Image references as people type them (`host:5000/team/app:v1`, `alpine`, `app@sha256:...`),
// normalised the way Docker does: no host means docker.io, and a one-part docker.io name
// lives under `library/`.
import { isValidName, isValidTag } from '../oci/reference.js';
import { tryParseDigest } from '../oci/digest.js';

export interface ImageReference {
  /** Registry host as written (`docker.io`, `127.0.0.1:5000`). */
  host: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';

export function parseImageReference(text: string): ImageReference {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (typeof tryParseDigest(digest) === 'string') throw new Error(`invalid digest in image reference "${text}"`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) throw new Error(`invalid tag "${tag}" in image reference "${text}"`);
  }
  const first = rest.split('/')[0]!;
  let host = DOCKER_HUB;
  let repository = rest;
  if (rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    host = first;
    repository = rest.slice(first.length + 1);
  }
  if (host === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!isValidName(repository)) throw new Error(`invalid repository name "${repository}" in image reference "${text}"`);
  if (!tag && !digest) tag = 'latest';
  return { host, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The manifest reference to ask the registry for: the digest when pinned, else the tag. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

export function formatImageReference(ref: ImageReference): string {
  return `${ref.host}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The host the API is served from (Docker Hub's API lives on registry-1.docker.io). */
export function apiHost(host: string): string {
  return host === DOCKER_HUB || host === 'index.docker.io' ? 'registry-1.docker.io' : host;
}
