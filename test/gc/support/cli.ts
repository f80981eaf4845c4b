// `berth gc --json` for the GC tests: runs the binary through the shared CLI runner and parses
// the report.
import { runBerth } from '../../support/cli.js';

export interface GcJson {
  dryRun: boolean;
  manifests: { repository: string; digest: string }[];
  blobs: { digest: string; size: number }[];
  bytes: number;
  layerLinks: { repository: string; digest: string }[];
}

export async function berthGc(config: string, flags: string[]): Promise<GcJson> {
  const res = await runBerth(['gc', '--config', config, '--json', ...flags]);
  if (res.code !== 0) throw new Error(`berth gc ${flags.join(' ')} exited ${res.code}:\n${res.stderr}`);
  return JSON.parse(res.stdout) as GcJson;
}
