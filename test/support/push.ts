// Minimal spec-level push helpers for tests (monolithic upload, manifest PUT) over fetch.
import type { Blob, Manifest } from './oci-fixtures.js';

export async function pushBlob(base: string, name: string, b: Blob): Promise<Response> {
  const res = await fetch(`${base}/v2/${name}/blobs/uploads/?digest=${b.digest}`, {
    method: 'POST', body: b.data, headers: { 'Content-Type': 'application/octet-stream' },
  });
  if (res.status !== 201) throw new Error(`push blob ${b.digest}: ${res.status} ${await res.text()}`);
  return res;
}

export async function pushManifest(base: string, name: string, reference: string, m: Manifest): Promise<Response> {
  const res = await fetch(`${base}/v2/${name}/manifests/${reference}`, {
    method: 'PUT', body: m.body, headers: { 'Content-Type': m.mediaType },
  });
  if (res.status !== 201) throw new Error(`push manifest ${reference}: ${res.status} ${await res.text()}`);
  return res;
}

/** Pushes config, layers and manifest of an image. */
export async function pushImage(base: string, name: string, reference: string, config: Blob, layers: Blob[], m: Manifest): Promise<void> {
  for (const b of [config, ...layers]) await pushBlob(base, name, b);
  await pushManifest(base, name, reference, m);
}
