// The official OCI distribution-spec conformance suite (v1.1.1, ../shared/conformance) against
// the real `berth serve`: all four workflows, with automatic cross-mount on. Nothing may fail.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startBerth, type BerthProcess } from './support/berth-process.js';
import { IN_CI, PROJECT_ROOT, removeDir, tempDir } from './support/env.js';

const RUN = resolve(PROJECT_ROOT, '../shared/conformance/run.sh');
const present = existsSync(RUN);
const skip = !present && !IN_CI ? `${RUN} not found` : false;

describe('OCI conformance suite v1.1.1', { skip }, () => {
  const berths: Record<string, BerthProcess> = {};
  let work: string;
  before(async () => {
    assert.ok(present, `CI=true and the conformance suite is missing: ${RUN}`);
    work = await tempDir('conformance');
    // The default (automatic cross-mount on), and Berth configured as the suite's "off" registry.
    berths['1'] = await startBerth({ root: join(work, 'on'), deleteEnabled: true });
    berths['0'] = await startBerth({ root: join(work, 'off'), deleteEnabled: true, env: { REGISTRY_STORAGE_CROSSMOUNT_AUTOMATIC: 'false' } });
  });
  after(async () => {
    for (const b of Object.values(berths)) await b.stop();
    await removeDir(work);
  });

  for (const crossmount of ['1', '0']) {
    it(`passes every workflow (automatic cross-mount ${crossmount === '1' ? 'on' : 'off'})`, async () => {
      const { stdout } = await promisify(execFile)(RUN, [berths[crossmount]!.url], {
        env: { ...process.env, OCI_AUTOMATIC_CROSSMOUNT: crossmount, OCI_REPORT_DIR: 'none', CONFORMANCE_TIMEOUT: '600' },
        maxBuffer: 64 * 1024 * 1024,
      }).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: `${err.stdout ?? ''}\n${err.stderr ?? ''}` }));
      const last = stdout.trim().split('\n').pop() ?? '';
      const m = /^(\d+) passed, (\d+) failed, (\d+) skipped$/.exec(last);
      assert.ok(m, `no summary line; output ends with:\n${stdout.slice(-3000)}`);
      assert.equal(Number(m[2]), 0, `conformance failures:\n${stdout.split('\n').filter((l) => l.includes('[FAIL]')).join('\n')}`);
      assert.ok(Number(m[1]) >= 74, last);
    });
  }
});
