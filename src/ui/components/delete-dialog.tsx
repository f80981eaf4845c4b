// Bulk delete: the chosen artifacts, their tags, and exactly the bytes deleting them frees once
// the garbage collector runs (the read API works it out from the reference tables, blobs other
// artifacts or repositories use excluded), then one DELETE per manifest through the registry API.
import { useEffect, useRef, useState } from 'preact/hooks';
import { change, read, type ArtifactSummary, type DeletionPreview } from '../data.js';
import { bytes, shortDigest } from '../format.js';

export function DeleteDialog(props: { repository: string; artifacts: ArtifactSummary[]; onClose: (deleted: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [preview, setPreview] = useState<DeletionPreview | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
    read.deletion(props.repository, props.artifacts.map((a) => a.digest)).then(setPreview, (e: Error) => setError(e.message));
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
  const left = preview?.untagged.manifests.length ?? 0;
  return (
    <dialog ref={ref} aria-labelledby="delete-title" onCancel={cancel}>
      <h2 id="delete-title">Delete {props.artifacts.length} artifact{props.artifacts.length === 1 ? '' : 's'} from {props.repository}?</h2>
      <ul>
        {props.artifacts.map((a) => <li><code>{shortDigest(a.digest)}</code> {a.tags.length > 0 ? `tags ${a.tags.join(', ')}` : 'untagged'} · {bytes(a.sizeBytes)}</li>)}
      </ul>
      <p data-testid="freed-preview">
        {preview
          ? <>Frees <strong data-testid="freed-bytes" data-bytes={preview.freedBytes}>{bytes(preview.freedBytes)}</strong> of the {bytes(preview.totalBytes)} these reference once the garbage collector runs; blobs other artifacts or repositories use stay.</>
          : 'Working out what this frees…'}
      </p>
      {preview && left > 0 && (
        <p data-testid="untagged-preview">
          It leaves {left} manifest{left === 1 ? '' : 's'} untagged (index children, signatures or SBOMs); collecting untagged manifests too
          (<code>gc.untagged: delete</code> or <code>berth gc --delete-untagged</code>) frees <strong data-bytes={preview.untagged.freedBytes}>{bytes(preview.untagged.freedBytes)}</strong>.
        </p>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <div class="actions">
        <button type="button" class="secondary" onClick={cancel}>Cancel</button>
        <button type="button" class="danger" disabled={busy || !preview} onClick={confirm}>Delete</button>
      </div>
    </dialog>
  );
}
