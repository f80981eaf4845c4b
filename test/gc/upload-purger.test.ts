// storage.maintenance.uploadpurging as Distribution has it: enabled, age, interval, dryrun,
// and off on a read-only registry.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { startUploadPurger, type UploadPurgingSettings } from '../../src/server/upload-purger.js';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { layout } from '../../src/registry/layout.js';

function recordingLogger(): { logger: FastifyBaseLogger; lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (a: unknown, b?: unknown) => {
    lines.push(`${level} ${typeof a === 'string' ? a : `${String(b)} ${JSON.stringify(a)}`}`);
  };
  const logger = { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') } as unknown as FastifyBaseLogger;
  return { logger, lines };
}

async function withOldUpload(): Promise<{ registry: Registry; id: string }> {
  const driver = new MemoryDriver();
  const registry = new Registry(driver);
  const id = await registry.uploads.start('repo');
  await driver.putContent(layout.uploadStartedAt('repo', id), new Date(Date.now() - 10 * 3_600_000).toISOString());
  return { registry, id };
}

const exists = async (registry: Registry, id: string) => registry.uploads.size('repo', id).then(() => true, () => false);

const settings = (s: Partial<UploadPurgingSettings>): UploadPurgingSettings => ({ enabled: true, age: 3_600_000, interval: 50, dryrun: false, ...s });

describe('upload purging schedule', () => {
  it('purges sessions older than age, repeatedly every interval', async () => {
    const { registry, id } = await withOldUpload();
    const { logger, lines } = recordingLogger();
    const purger = startUploadPurger(registry, settings({}), logger, { firstDelayMs: 10 });
    try {
      await sleep(300);
      assert.equal(await exists(registry, id), false);
      assert.ok(lines.filter((l) => l.includes('upload purge finished')).length >= 2, lines.join('\n'));
    } finally {
      purger.stop();
    }
  });

  it('keeps sessions younger than age', async () => {
    const { registry, id } = await withOldUpload();
    const purger = startUploadPurger(registry, settings({ age: 11 * 3_600_000 }), recordingLogger().logger, { firstDelayMs: 10 });
    await sleep(150);
    purger.stop();
    assert.equal(await exists(registry, id), true);
  });

  it('only lists sessions in dry run mode', async () => {
    const { registry, id } = await withOldUpload();
    const { logger, lines } = recordingLogger();
    const purger = startUploadPurger(registry, settings({ dryrun: true }), logger, { firstDelayMs: 10 });
    await sleep(150);
    purger.stop();
    assert.equal(await exists(registry, id), true);
    assert.ok(lines.some((l) => l.includes('would remove') && l.includes(id)), lines.join('\n'));
  });

  for (const [label, s, options] of [
    ['when disabled', settings({ enabled: false }), {}],
    ['on a read-only registry', settings({}), { readOnly: true }],
    ['with an interval of 0 (instead of spinning)', settings({ interval: 0 }), {}],
  ] as const) {
    it(`does nothing ${label}`, async () => {
      const { registry, id } = await withOldUpload();
      const purger = startUploadPurger(registry, s, recordingLogger().logger, { ...options, firstDelayMs: 0 });
      await sleep(100);
      purger.stop();
      assert.equal(await exists(registry, id), true);
    });
  }
});
