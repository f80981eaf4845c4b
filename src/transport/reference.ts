// Transport references as skopeo writes them: `docker://host/repo:tag`, `oci:DIR[:ref]`,
// `oci-archive:FILE[:ref]`, `docker-archive:FILE[:ref]`; a bare image reference means docker://.
import { parseImageReference, type ImageReference } from '../client/index.js';

export type TransportReference =
  | { kind: 'docker'; image: ImageReference }
  | { kind: 'oci' | 'oci-archive' | 'docker-archive'; path: string; ref: string | undefined };

const PATH_KINDS = ['oci-archive', 'docker-archive', 'oci'] as const;

export function parseTransportReference(text: string): TransportReference {
  if (text.startsWith('docker://')) return { kind: 'docker', image: parseImageReference(text.slice('docker://'.length)) };
  for (const kind of PATH_KINDS) {
    if (!text.startsWith(`${kind}:`)) continue;
    const rest = text.slice(kind.length + 1);
    if (!rest) throw new Error(`${text}: a path is missing after "${kind}:"`);
    // As in skopeo, the path ends at the first ':' (the reference itself may hold more).
    const colon = rest.indexOf(':');
    const path = colon > 0 ? rest.slice(0, colon) : rest;
    const ref = colon > 0 ? rest.slice(colon + 1) : undefined;
    return { kind, path, ref: ref || undefined };
  }
  if (/^[a-z-]+:\/\//.test(text)) throw new Error(`${text}: unknown transport (use docker://, oci:, oci-archive: or docker-archive:)`);
  return { kind: 'docker', image: parseImageReference(text) };
}

export function formatTransportReference(ref: TransportReference): string {
  if (ref.kind === 'docker') {
    const i = ref.image;
    return `docker://${i.host}/${i.repository}${i.tag ? `:${i.tag}` : ''}${i.digest ? `@${i.digest}` : ''}`;
  }
  return `${ref.kind}:${ref.path}${ref.ref ? `:${ref.ref}` : ''}`;
}
