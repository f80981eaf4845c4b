// Logs of the real binary: JSON lines carrying the request id, Distribution's log.fields and
// log.formatter, an access line per request with repository, digest, bytes and duration, and
// no credential ever written.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthProcess } from '../e2e/support/berth-process.js';
import { removeDir, tempDir } from '../e2e/support/env.js';
import { randomBlob } from '../support/oci-fixtures.js';

const SECRET = 'sUpEr-SeCrEt-9f1c';

async function berthWith(env: Record<string, string>): Promise<BerthProcess> {
  const root = await tempDir('berth-logs-');
  return startBerth({ root, env: { REGISTRY_LOG_LEVEL: 'info', REGISTRY_LOG_ACCESSLOG_DISABLED: 'false', ...env } });
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
}

describe('logs', () => {
  const running: BerthProcess[] = [];
  after(async () => {
    for (const b of running) {
      await b.stop();
      await removeDir(b.root);
    }
  });

  it('writes JSON access lines with the request id, repository, digest, bytes and duration, and no secret', async () => {
    const b = await berthWith({ REGISTRY_LOG_FIELDS_ENVIRONMENT: 'staging' });
    running.push(b);
    const blob = randomBlob(4321);
    const res = await fetch(`${b.url}/v2/logs/app/blobs/uploads/?digest=${blob.digest}&token=${SECRET}`, {
      method: 'POST', body: blob.data,
      headers: { Authorization: `Bearer ${SECRET}`, Cookie: `session=${SECRET}`, 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(res.status, 201);
    const requestId = res.headers.get('x-request-id');
    assert.ok(requestId);
    await settle();
    const lines = b.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((l) => l.reqId === requestId);
    const access = mine.find((l) => l.msg === 'access');
    assert.ok(access, `an access line for ${requestId} in:\n${b.logs()}`);
    assert.equal(access.repository, 'logs/app');
    assert.equal(access.method, 'POST');
    assert.equal(access.status, 201);
    assert.equal(access.bytesIn, 4321);
    assert.equal(typeof access.durationMs, 'number');
    assert.ok('user' in access || access.user === undefined);
    assert.equal(access.ENVIRONMENT, 'staging', 'log.fields are on every line');
    assert.match(String(access.url), /token=%5Bredacted%5D/);
    assert.doesNotMatch(b.logs(), new RegExp(SECRET));

    const get = await fetch(`${b.url}/v2/logs/app/blobs/${blob.digest}`);
    await get.arrayBuffer();
    await settle();
    const pull = b.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.reqId === get.headers.get('x-request-id') && l.msg === 'access');
    assert.equal(pull?.digest, blob.digest);
    assert.equal(pull?.bytesOut, 4321);
  });

  it('censors every credential-like query parameter in the access line, whatever its case, and keeps the registry\'s own', async () => {
    const b = await berthWith({});
    running.push(b);
    const secretNames = [
      'private_token', 'PRIVATE-TOKEN', 'apikey', 'api_key', 'ApiKey', 'access_token', 'token', 'id_token', 'refresh_token',
      'password', 'passwd', 'secret', 'client_secret', 'signature', 'X-Amz-Signature', 'X-Amz-Credential',
      'X-Amz-Security-Token', 'X-Goog-Signature', 'sig', 'code', 'auth', 'session_id', 'key',
    ];
    const innocent: Record<string, string> = {
      n: '5', last: 'alpine', digest: `sha256:${'a'.repeat(64)}`, mount: `sha256:${'b'.repeat(64)}`, from: 'library/alpine', ns: 'docker.io',
    };
    const query = new URLSearchParams(innocent);
    secretNames.forEach((name, i) => query.append(name, `${SECRET}-${i}`));
    const res = await fetch(`${b.url}/v2/_catalog?${query.toString()}`);
    await res.arrayBuffer();
    await settle();
    const access = b.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.reqId === res.headers.get('x-request-id') && l.msg === 'access');
    assert.ok(access, `an access line in:\n${b.logs()}`);
    assert.doesNotMatch(b.logs(), new RegExp(SECRET));
    const logged = new URLSearchParams(String(access.url).split('?')[1]);
    for (const name of secretNames) assert.equal(logged.get(name), '[redacted]', name);
    for (const [name, value] of Object.entries(innocent)) assert.equal(logged.get(name), value, name);
  });

  it('writes text lines with log.formatter text and Logstash fields with logstash', async () => {
    const text = await berthWith({ REGISTRY_LOG_FORMATTER: 'text' });
    running.push(text);
    await (await fetch(`${text.url}/v2/`)).arrayBuffer();
    await settle();
    const accessLine = text.logs().split('\n').find((l) => l.includes('access'));
    assert.ok(accessLine, text.logs());
    assert.ok(!accessLine.startsWith('{'), accessLine);
    assert.match(accessLine, /INFO/);

    const logstash = await berthWith({ REGISTRY_LOG_FORMATTER: 'logstash' });
    running.push(logstash);
    await (await fetch(`${logstash.url}/v2/`)).arrayBuffer();
    await settle();
    const line = logstash.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === 'access');
    assert.ok(line, logstash.logs());
    assert.equal(line['@version'], '1');
    assert.ok(!Number.isNaN(Date.parse(String(line['@timestamp']))));
    assert.equal(line.level, 'info');
  });
});
