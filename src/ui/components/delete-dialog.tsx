// Bulk delete: the chosen artifacts, their tags, and the bytes deleting them frees (blobs no
// other artifact of the repository uses; the garbage collector reclaims them, unless another
// repository links them too), then one DELETE per manifest through the registry API.
import { useEffect, useRef, useState } from 'preact/hooks';
import { change, read, type ArtifactDetail, type ArtifactSummary } from '../data.js';
import { bytes, shortDigest } from '../format.js';

/** How many other artifacts are read to tell shared blobs from the chosen ones' own. */
const COMPARE_LIMIT = 200;

interface Preview { freed: number; total: number; exact: boolean }

export function DeleteDialog(props: { repository: string; artifacts: ArtifactSummary[]; onClose: (deleted: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [preview, setPreview] = useState<Preview | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
    previewOf(props.repository, props.artifacts).then(setPreview, (e: Error) => setError(e.message));
  }, []);
  const confirm = async () => {
    setBusy(true);
    try {
      for (const a of props.artifacts) await change.deleteManifest(props.repository, a.digest);
      ref.current?.close();
      props.onClose(true);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };
  const cancel = () => { ref.current?.close(); props.onClose(false); };
  return (
    <dialog ref={ref} aria-labelledby="delete-title" onCancel={cancel}>
      <h2 id="delete-title">Delete {props.artifacts.length} artifact{props.artifacts.length === 1 ? '' : 's'} from {props.repository}?</h2>
      <ul>
        {props.artifacts.map((a) => <li><code>{shortDigest(a.digest)}</code> {a.tags.length > 0 ? `tags ${a.tags.join(', ')}` : 'untagged'} · {bytes(a.sizeBytes)}</li>)}
      </ul>
      <p data-testid="freed-preview">
        {preview ? <>Frees <strong data-testid="freed-bytes" data-bytes={preview.freed}>{bytes(preview.freed)}</strong> of {bytes(preview.total)}{preview.exact ? '' : ' (at most: the repository is too large to compare every artifact)'} once the garbage collector runs; blobs other artifacts use stay.</> : 'Working out what this frees…'}
      </p>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="actions">
        <button type="button" class="secondary" onClick={cancel}>Cancel</button>
        <button type="button" class="danger" disabled={busy || !preview} onClick={confirm}>Delete</button>
      </div>
    </dialog>
  );
}

/** Blobs (manifests, configs, layers, index children) of the chosen artifacts that no other artifact of the repository references. */
async function previewOf(repository: string, chosen: ArtifactSummary[]): Promise<Preview> {
  const mine = new Map<string, number>();
  for (const a of chosen) for (const [d, n] of blobsOf(await read.artifact(repository, a.digest))) mine.set(d, n);
  const chosenDigests = new Set(chosen.map((a) => a.digest));
  const others: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await read.artifacts(repository, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const a of page.items) if (!chosenDigests.has(a.digest)) others.push(a.digest);
    cursor = page.next ?? undefined;
  } while (cursor && others.length <= COMPARE_LIMIT);
  const exact = others.length <= COMPARE_LIMIT;
  const kept = new Set<string>();
  for (const d of others.slice(0, COMPARE_LIMIT)) {
    const detail = await read.artifact(repository, d).catch(() => undefined);
    if (detail) for (const blob of blobsOf(detail).keys()) kept.add(blob);
  }
  let freed = 0;
  let total = 0;
  for (const [d, n] of mine) { total += n; if (!kept.has(d)) freed += n; }
  return { freed, total, exact };
}

/** The config and layers of an image, the children of an index (each child counted whole), with their sizes. */
function blobsOf(a: ArtifactDetail): Map<string, number> {
  const out = new Map<string, number>();
  const manifest = a.manifest as { config?: { digest: string; size: number } } | undefined;
  if (manifest?.config) out.set(manifest.config.digest, manifest.config.size);
  for (const l of a.layers) out.set(l.digest, l.sizeBytes);
  for (const c of a.children) out.set(c.digest, c.sizeBytes);
  return out;
}
