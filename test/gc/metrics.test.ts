// The collector's Prometheus instruments, on a Registry passed in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry as PromRegistry } from 'prom-client';
import { createGcMetrics } from '../../src/gc/metrics.js';
import { collectGarbage } from '../../src/gc/collector.js';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { randomBlob } from '../support/oci-fixtures.js';
import { later, putBlob } from './support/seed.js';

describe('gc metrics', () => {
  it('count runs, duration, blobs and bytes reclaimed under berth_gc_* names', async () => {
    const prom = new PromRegistry();
    const metrics = createGcMetrics(prom);
    const registry = new Registry(new MemoryDriver());
    await putBlob(registry, 'r', randomBlob(1000));
    await putBlob(registry, 'r', randomBlob(500));
    metrics.recordRun(await collectGarbage(registry, { now: later }));
    const text = await prom.metrics();
    assert.match(text, /^berth_gc_runs_total\{outcome="success"\} 1$/m);
    assert.match(text, /^berth_gc_blobs_deleted_total 2$/m);
    assert.match(text, /^berth_gc_reclaimed_bytes_total 1500$/m);
    assert.match(text, /^berth_gc_duration_seconds_count 1$/m);
    for (const name of text.match(/^# TYPE (\S+)/gm) ?? []) assert.match(name, /# TYPE berth_gc_[a-z_]+_(total|seconds|bytes)$/);
  });

  it('can live twice in one process (no default registry)', () => {
    createGcMetrics(new PromRegistry());
    createGcMetrics(new PromRegistry());
  });
});
