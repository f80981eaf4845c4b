// One result of `berth doctor`: what was checked, whether it passed, and for a problem why it
// matters and the exact command or file change that fixes it.

export type Status = 'ok' | 'warn' | 'fail' | 'skip';

export interface Finding {
  /** Stable id (`tls.unknown-ca`), for --json consumers and tests. */
  id: string;
  status: Status;
  what: string;
  why?: string;
  fix?: string[];
}

export const ok = (id: string, what: string): Finding => ({ id, status: 'ok', what });
export const skip = (id: string, what: string): Finding => ({ id, status: 'skip', what });
export const fail = (id: string, what: string, why: string, fix: string[]): Finding => ({ id, status: 'fail', what, why, fix });
export const warn = (id: string, what: string, why: string, fix: string[]): Finding => ({ id, status: 'warn', what, why, fix });

const MARK: Record<Status, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export function formatFinding(f: Finding): string {
  const lines = [`[${MARK[f.status]}] ${f.what}`];
  if (f.why) lines.push(`       why: ${f.why}`);
  for (const [i, fix] of (f.fix ?? []).entries()) lines.push(`       ${i === 0 ? 'fix:' : '    '} ${fix}`);
  return lines.join('\n');
}
