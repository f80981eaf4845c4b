// `berth events deadletters [config]`: the notifications that ran out of attempts, read from the
// metadata database the configuration names; `--requeue` puts them back in their queues.
import { loadConfig } from '../config/load.js';
import { openMeta } from '../server/open-meta.js';
import { EventQueue, type QueuedEvent } from '../events/event-queue.js';

export interface DeadLettersOptions {
  endpoint?: string;
  json?: boolean;
  requeue?: boolean;
}

/** The dead-letter list of the registry `file` configures (for the CLI and the admin API). */
export async function deadLetters(file: string | undefined, endpoint?: string): Promise<QueuedEvent[]> {
  return withQueue(file, (q) => q.deadLetters(endpoint));
}

export async function deadLettersCommand(file: string | undefined, options: DeadLettersOptions): Promise<void> {
  if (options.requeue) {
    const n = await withQueue(file, (q) => q.requeueDeadLetters(options.endpoint));
    process.stdout.write(`${n} event(s) put back in their queues\n`);
    return;
  }
  const letters = await deadLetters(file, options.endpoint);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(letters, null, 2)}\n`);
    return;
  }
  if (letters.length === 0) {
    process.stdout.write('no dead letters\n');
    return;
  }
  for (const l of letters) {
    const t = l.event.target;
    process.stdout.write(`${l.deadAt?.toISOString() ?? ''}  ${l.endpoint}  ${l.event.action} ${t.repository}${t.tag ? `:${t.tag}` : ''}${t.digest ? `@${t.digest}` : ''}`
      + `  attempts=${l.attempts}  last error: ${l.lastError ?? ''}  (event ${l.eventId})\n`);
  }
}

async function withQueue<T>(file: string | undefined, fn: (q: EventQueue) => Promise<T>): Promise<T> {
  const { config } = loadConfig({ ...(file ? { file } : {}), env: process.env });
  const meta = await openMeta(config);
  try {
    return await fn(new EventQueue(meta.db));
  } finally {
    await meta.close();
  }
}
