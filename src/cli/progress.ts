// How copy/save/load/sync report: bars (cli-progress) on a terminal, one plain line per blob
// otherwise, nothing with --quiet, and with --json one JSON document per result on stdout.
import cliProgress from 'cli-progress';
import type { CopyEvent } from '../transport/copy.js';

export type OutputMode = 'bars' | 'lines' | 'quiet' | 'json';

export function outputMode(opts: { quiet?: boolean; json?: boolean }, stream: NodeJS.WriteStream = process.stderr): OutputMode {
  if (opts.json) return 'json';
  if (opts.quiet) return 'quiet';
  return stream.isTTY ? 'bars' : 'lines';
}

const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

export interface Reporter {
  onEvent(event: CopyEvent): void;
  /** A line for humans (stderr), dropped in quiet and json modes. */
  say(text: string): void;
  stop(): void;
}

export function reporter(mode: OutputMode): Reporter {
  if (mode === 'bars') {
    const multibar = new cliProgress.MultiBar({
      format: ' {blob} [{bar}] {percentage}% {value}/{total} bytes', hideCursor: true, clearOnComplete: false, stream: process.stderr,
    }, cliProgress.Presets.shades_classic);
    const bars = new Map<string, cliProgress.SingleBar>();
    return {
      onEvent(e) {
        if (e.type === 'blob' && e.state === 'start') bars.set(e.digest, multibar.create(e.size, 0, { blob: short(e.digest) }));
        else if (e.type === 'bytes') bars.get(e.digest)?.increment(e.bytes);
        else if (e.type === 'blob' && e.state !== 'start') {
          const bar = bars.get(e.digest);
          if (bar) bar.update(e.size);
          else multibar.log(`${short(e.digest)} ${e.state}\n`);
        } else if (e.type === 'retry') multibar.log(`${short(e.digest)} retry ${e.attempt}: ${e.error}\n`);
      },
      say: (text) => multibar.log(`${text}\n`),
      stop: () => multibar.stop(),
    };
  }
  if (mode === 'lines') {
    return {
      onEvent(e) {
        if (e.type === 'blob' && e.state !== 'start') process.stderr.write(`blob ${short(e.digest)} ${e.state} (${e.size} bytes)\n`);
        else if (e.type === 'manifest') process.stderr.write(`manifest ${e.digest}${e.tag ? ` as ${e.tag}` : ''} ${e.state}\n`);
        else if (e.type === 'retry') process.stderr.write(`blob ${short(e.digest)} retry ${e.attempt}: ${e.error}\n`);
      },
      say: (text) => process.stderr.write(`${text}\n`),
      stop: () => undefined,
    };
  }
  return { onEvent: () => undefined, say: () => undefined, stop: () => undefined };
}
