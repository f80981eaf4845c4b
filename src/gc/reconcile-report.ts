// Human-readable lines for a reconciler run (`berth gc --reconcile`; `--json` prints the report).
import type { ReconcileReport } from './reconcile.js';
import { formatBytes } from './report.js';

function named(o: { kind: string; repository: string; digest: string }): string {
  if (o.kind === 'blob') return `blob ${o.digest}`;
  return o.kind === 'layer' ? `layer link ${o.repository} -> ${o.digest}` : `manifest ${o.repository}@${o.digest}`;
}

export function formatReconcileReport(r: ReconcileReport): string {
  const lines: string[] = [];
  for (const u of r.unknown) lines.push(`unknown to the database since ${u.firstSeen}, removable from ${u.removableAt}: ${named(u)}`);
  for (const m of r.removed.manifests) lines.push(`removed (unknown to the database past the grace): manifest ${m.repository}@${m.digest}`);
  for (const b of r.removed.blobs) lines.push(`removed (unknown to the database past the grace): blob ${b.digest} (${formatBytes(b.size)})`);
  for (const l of r.removed.layerLinks) lines.push(`removed: layer link ${l.repository} -> ${l.digest} (its blob is gone)`);
  for (const name of r.imported) lines.push(`re-read into the index: ${name} (storage tags a manifest the database lacked)`);
  for (const m of r.missing.manifests) lines.push(`missing from storage: manifest ${m.repository}@${m.digest} (the database lists it)`);
  for (const b of r.missing.blobs) lines.push(`missing from storage: blob ${b} (a manifest the database lists references it)`);
  const bytes = r.removed.blobs.reduce((n, b) => n + b.size, 0);
  lines.push(
    `${r.blobsSeen} blobs and ${r.manifestsSeen} manifests in storage; ${r.unknown.length} unknown within the grace; removed `
    + `${r.removed.blobs.length} blobs (${formatBytes(bytes)}), ${r.removed.manifests.length} manifests, ${r.removed.layerLinks.length} layer links; `
    + `${r.missing.manifests.length + r.missing.blobs.length} database rows without storage; ${(r.durationMs / 1000).toFixed(1)}s${r.dryRun ? ' (dry run)' : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
