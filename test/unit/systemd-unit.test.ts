// deploy/berth.service as systemd itself reads it: `systemd-analyze verify` accepts it (with
// ExecStart pointed at this checkout, as an install to /opt/berth would be) and its offline
// security review rates the sandbox. systemd-analyze is a test dependency (scripts/test-deps).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UNIT = readFileSync(join(ROOT, 'deploy/berth.service'), 'utf8');
const analyze = spawnSync('systemd-analyze', ['--version']);
const missing = analyze.error !== undefined;
const skip = missing && process.env.CI !== 'true' ? 'systemd-analyze is not installed (scripts/install-test-deps.sh)' : false;

function analyzeUnit(text: string, ...args: string[]): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-unit-'));
  try {
    const file = join(dir, 'berth.service');
    writeFileSync(file, text);
    const r = spawnSync('systemd-analyze', [...args, file], { encoding: 'utf8' });
    if (r.error) throw r.error;
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const here = (text: string) => text.replace('/opt/berth/bin/berth.js', join(ROOT, 'bin/berth.js')).replace('/usr/bin/node', process.execPath);

describe('the systemd unit (deploy/berth.service)', { skip }, () => {
  it('is accepted by systemd-analyze verify', () => {
    const r = analyzeUnit(here(UNIT), 'verify');
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out.trim(), '');
  });

  it('is refused by the same check when its command does not exist (the check bites)', () => {
    const r = analyzeUnit(here(UNIT).replace(process.execPath, '/nonexistent/node'), 'verify');
    assert.notEqual(r.status, 0);
    assert.match(r.out, /nonexistent\/node/);
  });

  it('runs as a dedicated user with no privileges, a read-only system and its own state directory', () => {
    const r = analyzeUnit(here(UNIT), 'security', '--offline=yes');
    for (const setting of ['User=/DynamicUser=', 'NoNewPrivileges=', 'ProtectSystem=', 'PrivateTmp=', 'CapabilityBoundingSet=~CAP_SYS_ADMIN']) {
      assert.match(r.out, new RegExp(`✓ ${setting.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), `${setting} is not set:\n${r.out}`);
    }
    const level = /Overall exposure level for [^:]+: ([0-9.]+)/.exec(r.out);
    assert.ok(level, r.out);
    assert.ok(Number(level[1]) <= 2, `exposure ${level[1]} (systemd: 0 is best, 10 worst)`);
    assert.match(UNIT, /^StateDirectory=berth$/m);
    assert.match(UNIT, /^ConfigurationDirectory=berth$/m);
  });
});
