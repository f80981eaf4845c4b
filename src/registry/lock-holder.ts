// Who holds the GC lock, precisely enough to tell, from the same machine, that the holder is
// gone: host name, pid, the process's start time (so a reused pid is not mistaken for it), the
// boot id and the pid namespace (so a pid from another boot or another container is never
// looked up here). A holder on another machine is only ever given up on by its lease.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface LockHolder {
  host: string;
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat, field 22). */
  pidStart?: string;
  bootId?: string;
  pidNamespace?: string;
}

export function currentHolder(): LockHolder {
  const holder: LockHolder = { host: hostname(), pid: process.pid };
  const pidStart = processStart(process.pid);
  const bootId = readOrUndefined(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  const pidNamespace = readOrUndefined(() => readlinkSync('/proc/self/ns/pid'));
  if (pidStart) holder.pidStart = pidStart;
  if (bootId) holder.bootId = bootId;
  if (pidNamespace) holder.pidNamespace = pidNamespace;
  return holder;
}

/**
 * Whether `holder` is certainly a process of this machine (same host, boot and pid namespace)
 * that no longer runs. Anything uncertain counts as alive: only the lease may end it then.
 */
export function isDeadHere(holder: Partial<LockHolder> | undefined): boolean {
  if (!holder || typeof holder.pid !== 'number' || !Number.isSafeInteger(holder.pid) || holder.pid <= 0) return false;
  const here = currentHolder();
  if (holder.host !== here.host || holder.bootId !== here.bootId || holder.pidNamespace !== here.pidNamespace) return false;
  if (holder.pid === process.pid) return holder.pidStart !== undefined && holder.pidStart !== here.pidStart;
  if (!isRunning(holder.pid)) return true;
  const proc = procStat(holder.pid);
  if (!proc) return false;
  // Killed but not yet reaped by its parent: it holds nothing any more.
  if (proc.state === 'Z' || proc.state === 'X') return true;
  // The pid runs, but if it started at another time it is another process that reused the pid.
  return holder.pidStart !== undefined && proc.start !== holder.pidStart;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, under another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function processStart(pid: number): string | undefined {
  return procStat(pid)?.start;
}

/** State and start time from /proc/<pid>/stat; undefined without /proc (not Linux). */
function procStat(pid: number): { state: string; start: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [state, start] = [fields[0], fields[19]];
  return state && start ? { state, start } : undefined;
}

function readOrUndefined(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
