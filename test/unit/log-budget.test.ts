// The budget that keeps client-triggered warnings (failed TLS handshakes, refused connections)
// from flooding the log.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { logBudget } from '../../src/http/log-budget.js';

describe('logBudget', () => {
  it('allows a few events a window, counts the rest, and reports the count with the next one allowed', () => {
    let now = 0;
    const budget = logBudget(2, 1000, () => now);
    assert.deepEqual(budget.take(), { ok: true, suppressed: 0 });
    assert.deepEqual(budget.take(), { ok: true, suppressed: 0 });
    for (let i = 0; i < 500; i++) assert.deepEqual(budget.take(), { ok: false });
    now = 999;
    assert.deepEqual(budget.take(), { ok: false });
    now = 1000;
    assert.deepEqual(budget.take(), { ok: true, suppressed: 501 });
    assert.deepEqual(budget.take(), { ok: true, suppressed: 0 });
  });
});
