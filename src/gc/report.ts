// Human-readable lines for a GC run (the `--json` form is the report object itself).
import type { GcReport } from './collector.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function formatReport(report: GcReport): string {
  const verb = report.dryRun ? 'eligible for deletion' : 'deleted';
  const lines: string[] = [];
  for (const m of report.manifests) lines.push(`manifest ${verb}: ${m.repository}@${m.digest}`);
  for (const b of report.blobs) lines.push(`blob ${verb}: ${b.digest} (${formatBytes(b.size)})`);
  for (const l of report.layerLinks) lines.push(`layer link ${verb}: ${l.repository} -> ${l.digest}`);
  for (const d of report.restored) lines.push(`kept after rescan (a concurrent push needs it): ${d}`);
  if (report.recovered) lines.push(`cleared ${report.recovered} deletion marks an interrupted run left`);
  lines.push(
    `${report.blobsSeen} blobs, ${report.blobsMarked} marked; ${report.blobs.length} blobs (${formatBytes(report.bytes)}), `
    + `${report.manifests.length} manifests and ${report.layerLinks.length} layer links ${verb} `
    + `in ${(report.durationMs / 1000).toFixed(1)}s${report.dryRun ? ' (dry run)' : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

/** The counts an audit record or a log line keeps of a run (the full lists stay in the report). */
export function reportSummary(report: GcReport): Record<string, unknown> {
  return {
    dryRun: report.dryRun, deleteUntagged: report.deleteUntagged, graceMs: report.graceMs, durationMs: report.durationMs,
    blobs: report.blobs.length, bytes: report.bytes, manifests: report.manifests.length, layerLinks: report.layerLinks.length,
  };
}
