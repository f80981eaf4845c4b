// Which responses are pulls for the audit log (auth.audit.pulls): a manifest GET answered 200.
// Blob GETs are the layers of that same pull, and HEADs only ask; neither is recorded.
import type { FastifyRequest } from 'fastify';
import type { PullAudit } from '../auth/pull-audit.js';
import { targetOf } from './request-target.js';

export function auditPull(pulls: PullAudit, req: FastifyRequest, status: number, actor: string, address: string): void {
  if (req.method !== 'GET' || status !== 200) return;
  let match;
  try {
    match = targetOf(req).api?.match;
  } catch {
    return;
  }
  if (!match || match.route.name !== 'manifest') return;
  const separator = match.param.includes(':') ? '@' : ':';
  pulls.add({ actor, address, action: 'pull', target: `${match.name}${separator}${match.param}` });
}
