// A storage driver that wraps any other and misbehaves on demand: a test names a method and a
// path pattern and gets an error, a delay, an action run at that exact moment, or a "partial
// failure" (the call takes effect, then reports an error: the process died right after the
// write). Tests used to hand-roll a Proxy or a subclass per case; this is the one place.
// It is a Proxy, so every method and optional capability the wrapped driver has (now or later)
// is forwarded unchanged unless a fault matches.
import type { StorageDriver } from '../../src/storage/driver.js';

export interface DriverCall {
  method: string;
  /** The first argument when it is a string (the path; `move`'s source), else ''. */
  path: string;
  args: readonly unknown[];
}

export interface Fault {
  /** Methods it applies to (`putContent`, `reader`, ...); every method when omitted. */
  method?: string | readonly string[];
  /** Which paths: a substring, a pattern, or a predicate over the call; every path when omitted. */
  path?: string | RegExp | ((path: string, call: DriverCall) => boolean);
  /** Wait this long before the call (or before failing it). */
  delayMs?: number;
  /** Run at the matching moment (before the call, or after it with `after`): a racing client. */
  run?: (call: DriverCall) => Promise<void> | void;
  /** Fail the call with this error (a function builds one per call). */
  error?: Error | ((call: DriverCall) => Error);
  /**
   * Let the call take effect first, then run/fail: a partial failure (stored, but reported as
   * failed). Without it the fault acts before the call and an error means nothing happened.
   */
  after?: boolean;
  /** How many matching calls it acts on; then it retires. Every matching call when omitted. */
  times?: number;
}

export interface FaultyDriver<D extends StorageDriver = StorageDriver> {
  /** The wrapped driver, with faults: hand this to the Registry. */
  readonly driver: D;
  /** The driver underneath, untouched: to look at storage without faults. */
  readonly inner: D;
  /** Every call that reached the wrapper, in order (all methods, all paths). */
  readonly calls: DriverCall[];
  /** Calls a fault acted on. */
  readonly hits: DriverCall[];
  /** Adds a fault; returns a function that removes it. */
  inject(fault: Fault): () => void;
  /** Removes every fault. */
  clear(): void;
}

interface Armed {
  fault: Fault;
  left: number;
}

function matches(fault: Fault, call: DriverCall): boolean {
  if (fault.method !== undefined) {
    const methods = typeof fault.method === 'string' ? [fault.method] : fault.method;
    if (!methods.includes(call.method)) return false;
  }
  const p = fault.path;
  if (p === undefined) return true;
  if (typeof p === 'string') return call.path.includes(p);
  if (p instanceof RegExp) return p.test(call.path);
  return p(call.path, call);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wraps `inner`; no fault is armed until `inject`. */
export function withFaults<D extends StorageDriver>(inner: D): FaultyDriver<D> {
  const armed: Armed[] = [];
  const calls: DriverCall[] = [];
  const hits: DriverCall[] = [];

  const take = (call: DriverCall): Fault[] => {
    const found: Fault[] = [];
    for (const a of [...armed]) {
      if (a.left <= 0 || !matches(a.fault, call)) continue;
      a.left--;
      if (a.left <= 0) armed.splice(armed.indexOf(a), 1);
      found.push(a.fault);
    }
    if (found.length > 0) hits.push(call);
    return found;
  };

  const act = async (faults: Fault[], call: DriverCall): Promise<void> => {
    for (const f of faults) {
      if (f.delayMs) await sleep(f.delayMs);
      if (f.run) await f.run(call);
      if (f.error) throw typeof f.error === 'function' ? f.error(call) : f.error;
    }
  };

  const driver = new Proxy(inner, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const fn = value as (...a: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const call: DriverCall = { method: prop, path: typeof args[0] === 'string' ? args[0] : '', args };
        calls.push(call);
        const faults = take(call);
        // Untouched calls stay exactly as the driver answers them (sync helpers stay sync).
        if (faults.length === 0) return fn.apply(target, args);
        return (async () => {
          await act(faults.filter((f) => !f.after), call);
          const result = await fn.apply(target, args);
          await act(faults.filter((f) => f.after), call);
          return result;
        })();
      };
    },
  });

  return {
    driver,
    inner,
    calls,
    hits,
    inject(fault) {
      const a: Armed = { fault, left: fault.times ?? Number.POSITIVE_INFINITY };
      armed.push(a);
      return () => {
        const i = armed.indexOf(a);
        if (i >= 0) armed.splice(i, 1);
      };
    },
    clear() {
      armed.length = 0;
    },
  };
}
