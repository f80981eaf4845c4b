// What content trust tells operators: every verdict and every read of an unverified image is
// counted; the first read after a verdict is computed is also logged, written to the audit log
// and sent to the notification endpoints (action `unverified`), so a hot unsigned image yields
// one record per verdict, not one per pull.
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { Counter } from 'prom-client';
import type { MetricsRegistry } from '../metrics/metrics.js';
import type { MetaTables } from '../meta/tables/index.js';
import type { Notifier } from '../events/notifier.js';
import type { RequestContext } from '../events/request-scope.js';
import { appendAudit } from '../auth/audit.js';
import { whyUnverified, type Verdict } from './verdict.js';

export interface TrustReporter {
  judged(verdict: Verdict): void;
  unverifiedRead(verdict: Verdict, ctx: RequestContext, firstSinceVerdict: boolean): Promise<void>;
}

export interface ReporterOptions {
  logger: FastifyBaseLogger;
  metrics?: MetricsRegistry | undefined;
  notifier?: Notifier | undefined;
  audit?: Kysely<MetaTables> | undefined;
}

export function createReporter(options: ReporterOptions): TrustReporter {
  const on = options.metrics ? { registers: [options.metrics] } : { registers: [] };
  const verdicts = new Counter({ ...on, name: 'berth_trust_verdicts_total', help: 'Signature verdicts computed (not served from the cache), by policy and result.', labelNames: ['policy', 'result'] as const });
  const reads = new Counter({ ...on, name: 'berth_trust_unverified_reads_total', help: 'Manifest reads of images without an accepted signature, by policy and outcome (served in audit mode, refused in enforce mode).', labelNames: ['policy', 'outcome'] as const });
  return {
    judged(v) {
      verdicts.inc({ policy: v.policy, result: v.verified ? 'verified' : 'unverified' });
    },
    async unverifiedRead(v, ctx, first) {
      const outcome = v.mode === 'enforce' ? 'refused' : 'served';
      reads.inc({ policy: v.policy, outcome });
      if (!first) return;
      const reason = whyUnverified(v);
      options.logger.warn({ repository: v.repository, digest: v.digest, policy: v.policy, mode: v.mode, outcome, user: ctx.user, reason }, 'trust: read of an image without an accepted signature');
      const target = `${v.repository}@${v.digest}`;
      await Promise.all([
        options.audit && appendAudit(options.audit, {
          actor: ctx.user ?? '-', address: ctx.addr, action: `trust.${outcome}`, target, detail: { policy: v.policy, mode: v.mode, reason },
        }).catch((err: unknown) => options.logger.error({ err }, 'trust: audit entry not written')),
        options.notifier?.event({
          action: 'unverified', kind: 'manifest', repository: v.repository, digest: v.digest, request: ctx, timestamp: new Date(),
        }),
      ]);
    },
  };
}
