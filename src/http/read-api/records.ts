// The read API's registry-wide records, for system administrators (ReadAccess.administrator):
// the audit log (filtered, paged, and as a CSV download), garbage collection runs with their
// reports, and notification dead letters. All from the metadata database. The console reads these;
// the admin API's older `GET /audit` and `GET /notifications/deadletters` (whole lists) stay as
// they were for scripts (README's admin API section documents them).
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import type { MetaTables } from '../../meta/tables/index.js';
import { RegistryError } from '../../errors/index.js';
import { pageAudit, type AuditFilter } from '../../auth/audit-query.js';
import { getGcRun, listGcRuns } from '../../gc/run-book.js';
import { EventQueue } from '../../events/event-queue.js';
import { encodeCursor } from '../../inventory/cursor.js';
import type { ReadAccess } from './access.js';
import { QueryReader } from './query.js';
import { csvLine } from './csv.js';

const PAGE = ['limit', 'cursor'];
const AUDIT_FILTERS = ['actor', 'action', 'repository', 'since', 'until'];
const CSV_PAGE = 1000;

export function recordRoutes(app: FastifyInstance, db: Kysely<MetaTables>, access: ReadAccess): void {
  app.get('/audit/entries', async (req, reply) => {
    const q = new QueryReader(req, [...AUDIT_FILTERS, ...PAGE]);
    const filter = auditFilter(q);
    const limit = q.limit();
    const after = q.cursor()?.t;
    await access.administrator(req);
    const page = await pageAudit(db, { ...filter, limit, after });
    const last = page.items[page.items.length - 1];
    return json(reply, { items: page.items, next: page.next && last ? encodeCursor({ k: last.at, t: page.next }) : null });
  });

  app.get('/audit/entries.csv', async (req, reply) => {
    const filter = auditFilter(new QueryReader(req, AUDIT_FILTERS));
    await access.administrator(req);
    async function* rows(): AsyncGenerator<string> {
      yield csvLine(['at', 'actor', 'address', 'action', 'target', 'detail']);
      let after: string | undefined;
      do {
        const page = await pageAudit(db, { ...filter, limit: CSV_PAGE, after });
        for (const e of page.items) yield csvLine([e.at, e.actor, e.address, e.action, e.target, JSON.stringify(e.detail)]);
        after = page.next;
      } while (after !== undefined);
    }
    return reply.code(200).type('text/csv; charset=utf-8').header('Cache-Control', 'no-store')
      .header('Content-Disposition', 'attachment; filename="berth-audit.csv"').send(Readable.from(rows()));
  });

  app.get('/gc/runs', async (req, reply) => {
    const q = new QueryReader(req, PAGE);
    const limit = q.limit();
    const after = q.cursor()?.t;
    await access.administrator(req);
    const { items, more } = await listGcRuns(db, limit, after);
    const last = items[items.length - 1];
    return json(reply, { items, next: more && last ? encodeCursor({ k: last.startedAt, t: last.id }) : null });
  });

  app.get('/gc/runs/:id', async (req, reply) => {
    new QueryReader(req, []);
    await access.administrator(req);
    const id = (req.params as Record<string, string>).id ?? '';
    const run = await getGcRun(db, id);
    if (!run) throw new RegistryError('NOT_FOUND', { gcRun: id }, { message: `no garbage collection run ${id}` });
    return json(reply, run);
  });

  const queue = new EventQueue(db);
  app.get('/notifications/deadletters/entries', async (req, reply) => {
    const q = new QueryReader(req, ['endpoint', ...PAGE]);
    const endpoint = q.text('endpoint');
    const limit = q.limit();
    const after = q.cursor();
    await access.administrator(req);
    const page = await queue.deadLetterPage({ endpoint, limit, after: after === undefined ? undefined : { seq: Number(after.k), key: after.t } });
    return json(reply, {
      items: page.items.map((e) => ({
        endpoint: e.endpoint, eventId: e.eventId, action: e.event.action, repository: e.event.target.repository ?? null,
        attempts: e.attempts, lastError: e.lastError, createdAt: e.createdAt.toISOString(), deadAt: e.deadAt?.toISOString() ?? null, event: e.event,
      })),
      next: page.next ? encodeCursor({ k: page.next.seq, t: page.next.key }) : null,
    });
  });

}

function auditFilter(q: QueryReader): AuditFilter {
  return { actor: q.text('actor'), action: q.text('action'), repository: q.text('repository'), since: q.time('since'), until: q.time('until') };
}

function json(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.code(200).type('application/json').header('Cache-Control', 'no-store').send(JSON.stringify(body));
}

