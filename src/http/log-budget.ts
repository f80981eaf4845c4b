// A budget for warnings a client can trigger at will (refused handshakes, refused connections):
// a scanner must not be able to flood the log. Past the budget, events are only counted, and the
// count is reported with the next warning the budget allows.

export interface LogBudget {
  /** Whether this event may be logged now; `suppressed` is how many were dropped before it. */
  take(): { ok: true; suppressed: number } | { ok: false };
}

export function logBudget(perWindow: number, windowMs: number, now: () => number = Date.now): LogBudget {
  let windowStart = -Infinity;
  let used = 0;
  let dropped = 0;
  return {
    take() {
      const t = now();
      if (t - windowStart >= windowMs) {
        windowStart = t;
        used = 0;
      }
      if (used >= perWindow) {
        dropped++;
        return { ok: false };
      }
      used++;
      const suppressed = dropped;
      dropped = 0;
      return { ok: true, suppressed };
    },
  };
}
