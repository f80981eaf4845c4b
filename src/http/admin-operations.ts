// Admin API routes that operate the registry rather than its accounts: an on-demand garbage
// collection (the same run as `berth gc` and the schedule), the notification dead letters, and
// deleted tags: listed and restored within `gc.tagrestore` (src/gc/tag-restore.ts).
import type { Registry } from '../registry/registry.js';
import type { AuthService } from '../auth/service.js';
import { collectGarbage } from '../gc/collector.js';
import { LockHeldError } from '../gc/lock.js';
import { reportSummary } from '../gc/report.js';
import { afterGcRun } from '../gc/after-run.js';
import { parseDuration } from '../config/duration.js';
import { EventQueue } from '../events/event-queue.js';
import { restorableTags, restoreTag, TagRestoreError } from '../gc/tag-restore.js';
import { AdminApiError, requiredString, type AdminAction, type AdminBody } from './admin-types.js';

export function operationRoutes(auth: AuthService, registry: Registry, defaultGraceMs: number, tagRestoreMs: number): Array<[string, string, AdminAction]> {
  const queue = new EventQueue(auth.meta.db);
  return [
    ['POST', '/gc', async ({ req, body, actor }) => {
      const options = {
        dryRun: flag(body, 'dryRun'), deleteUntagged: flag(body, 'deleteUntagged'), graceMs: grace(body, defaultGraceMs),
      };
      try {
        const report = await collectGarbage(registry, options);
        await afterGcRun(auth.meta.db, report, 'api', actor).catch((err: unknown) => req.log.error({ err }, 'garbage collection: run record lost'));
        return { status: 200, body: report, audit: { action: 'gc.run', target: 'registry', detail: reportSummary(report) } };
      } catch (err) {
        if (err instanceof LockHeldError) throw new AdminApiError('CONFLICT', err.message);
        throw err;
      }
    }],
    ['GET', '/tags/deleted', async ({ req }) => {
      const repository = (req.query as Record<string, string | undefined>).repository;
      const rows = await restorableTags(auth.meta, tagRestoreMs, repository !== undefined ? { repository } : {});
      return { status: 200, body: rows.map((r) => ({ ...r, deletedAt: new Date(r.deletedAt).toISOString(), restorableUntil: new Date(r.restorableUntil).toISOString() })) };
    }],
    ['POST', '/tags/restore', async ({ body }) => {
      const repository = requiredString(body, 'repository');
      const tag = requiredString(body, 'tag');
      const digest = body.digest === undefined ? undefined : requiredString(body, 'digest');
      try {
        const row = await restoreTag(auth.meta, registry, repository, tag, { windowMs: tagRestoreMs, ...(digest !== undefined ? { digest } : {}) });
        return { status: 200, body: { repository, tag, digest: row.digest }, audit: { action: 'tag.restore', target: `${repository}:${tag}`, detail: { digest: row.digest } } };
      } catch (err) {
        if (err instanceof TagRestoreError) throw new AdminApiError('NOT_FOUND', err.message);
        throw err;
      }
    }],
    ['GET', '/notifications/deadletters', async ({ req }) => {
      const endpoint = (req.query as Record<string, string | undefined>).endpoint;
      return { status: 200, body: await queue.deadLetters(endpoint) };
    }],
    ['POST', '/notifications/deadletters/requeue', async ({ body }) => {
      const endpoint = body.endpoint === undefined ? undefined : requiredString(body, 'endpoint');
      const requeued = await queue.requeueDeadLetters(endpoint);
      return { status: 200, body: { requeued }, audit: { action: 'notifications.requeue', target: endpoint ?? '*', detail: { requeued } } };
    }],
  ];
}

function flag(body: AdminBody, key: string): boolean {
  const v = body[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new AdminApiError('INVALID', `"${key}" must be true or false`);
  return v;
}

function grace(body: AdminBody, fallback: number): number {
  if (body.grace === undefined) return fallback;
  try {
    return parseDuration(requiredString(body, 'grace'));
  } catch {
    throw new AdminApiError('INVALID', '"grace" must be a duration such as 30m or 1h');
  }
}
