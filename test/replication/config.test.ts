// The replication section of config.yml: checked at start, each problem naming its key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { runBerth } from '../support/cli.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const ENDPOINTS = ['replication:', `  key: ${KEY}`, '  endpoints:', '    - name: dr', '      url: https://dr.example.com', '      username: robot', '      password: s3cret-Pw'];

function file(lines: string[]): string {
  const path = join(tmpdir(), `berth-repl-config-${process.pid}-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(path, ['version: 0.1', 'storage:', '  inmemory: {}', ...lines, ''].join('\n'));
  return path;
}

function policy(extra: string[]): string[] {
  return [...ENDPOINTS, '  policies:', '    - name: to-dr', '      direction: push', '      endpoint: dr', ...extra];
}

function problems(lines: string[]): string {
  try {
    loadConfig({ file: file(lines) });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('replication configuration', () => {
  it('loads the shape of the issue: durations in ms, bandwidth in bytes per second', () => {
    const { config } = loadConfig({ file: file(policy(['      repositories: ["team/*"]', '      tags: "^v[0-9]"', '      destination: mirror/', '      trigger: {event: true, schedule: "*/10 * * * *"}', '      bandwidth: 50MB/s'])) });
    const p = config.replication.policies[0]!;
    assert.equal(p.bandwidth, 50_000_000);
    assert.equal(p.concurrency, 4);
    assert.equal(p.referrers, true);
    assert.equal(config.replication.lease, 30_000);
  });

  it('refuses an unknown key, naming it', () => {
    assert.match(problems(policy(['      repositories: ["a/*"]', '      trigger: {event: true}', '      tagz: "^v"'])), /unknown key replication\.policies\[0\]\.tagz/);
  });

  it('refuses a bad glob, regex and cron line, naming each key', () => {
    const msg = problems(policy(['      repositories: ["team/{a,b"]', '      tags: "^v[0-9"', '      trigger: {schedule: "61 * * * *"}']));
    assert.match(msg, /replication\.policies\[0\]\.repositories\[0\]: "team\/\{a,b" is not a valid glob/);
    assert.match(msg, /replication\.policies\[0\]\.tags: .* is not a valid regular expression/);
    assert.match(msg, /replication\.policies\[0\]\.trigger\.schedule: "61 \* \* \* \*" is not a valid cron line/);
  });

  it('refuses a policy naming no known endpoint, and an event trigger on a pull policy', () => {
    const msg = problems([...ENDPOINTS, '  policies:', '    - name: p', '      direction: pull', '      endpoint: nowhere', '      repositories: ["a"]', '      trigger: {event: true}']);
    assert.match(msg, /replication\.policies\[0\]\.endpoint: no endpoint named "nowhere"/);
    assert.match(msg, /replication\.policies\[0\]\.trigger\.event: events trigger push policies only/);
  });

  it('refuses a key that is not 32 bytes', () => {
    assert.match(problems(['replication:', '  key: c2hvcnQ=']), /replication\.key: must be 32 bytes/);
  });

  it('refuses an endpoint password without a key to store it encrypted, naming the key', () => {
    const msg = problems(['replication:', '  endpoints:', '    - {name: dr, url: https://dr.example.com, username: robot, passwordfile: /run/secrets/dr}']);
    assert.match(msg, /replication\.endpoints\[0\]\.passwordfile: credentials are stored encrypted .* set replication\.key or replication\.keyfile/);
  });

  it('refuses a previous key without a current one, and one that is not 32 bytes', () => {
    assert.match(problems(['replication:', `  previouskey: ${KEY}`]), /replication\.previouskey: a rotation needs the new key/);
    assert.match(problems(['replication:', `  key: ${KEY}`, '  previouskey: c2hvcnQ=']), /replication\.previouskey: must be 32 bytes/);
  });

  it('berth config print masks endpoint passwords and keys', async () => {
    const r = await runBerth(['config', 'print', file(policy(['      repositories: ["a/*"]', '      trigger: {event: true}']))]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /s3cret-Pw/);
    assert.ok(!r.stdout.includes(KEY), 'the key is masked');
    assert.match(r.stdout, /robot/);
  });
});
