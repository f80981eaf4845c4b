// Every configuration key named like a credential is either masked by the printers or says
// why it is not a secret: a key added later without `secret(...)` or `notSecret(...)` fails here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kind, type TSchema } from '@sinclair/typebox';
import { ConfigSchema } from '../../src/config/schema.js';
import { NOT_SECRET, SECRET } from '../../src/config/sections/common.js';
import { maskWith } from '../../src/config/mask.js';

/** Names that smell of a credential, by this test's own rule (not the code's). */
const CREDENTIAL_NAME = /pass|secret|token|key|credential/i;

interface Key {
  path: string;
  name: string;
  schema: TSchema;
}

function keysOf(schema: TSchema, path: string): Key[] {
  const out: Key[] = [];
  switch (schema[Kind]) {
    case 'Object':
      for (const [name, sub] of Object.entries(schema.properties as Record<string, TSchema>)) {
        const here = path ? `${path}.${name}` : name;
        out.push({ path: here, name, schema: sub }, ...keysOf(sub, here));
      }
      break;
    case 'Record':
      for (const sub of Object.values(schema.patternProperties as Record<string, TSchema>)) out.push(...keysOf(sub, `${path}.*`));
      break;
    case 'Array':
      out.push(...keysOf(schema.items as TSchema, `${path}[]`));
      break;
    case 'Union':
      for (const sub of schema.anyOf as TSchema[]) out.push(...keysOf(sub, path));
      break;
  }
  return out;
}

const SAMPLE = 'SeKrIt-4711';
const samples: Record<string, unknown> = {
  value: SAMPLE,
  url: `https://user:${SAMPLE}@example.com/hook?token=${SAMPLE}&n=1`,
  path: `-----BEGIN PRIVATE KEY-----\n${SAMPLE}\n-----END PRIVATE KEY-----\n`,
  headers: { Authorization: [`Bearer ${SAMPLE}`], 'X-Api-Key': [SAMPLE], Accept: ['application/json'] },
};

describe('configuration secrets', () => {
  const keys = keysOf(ConfigSchema, '');

  it('the walk reaches the keys it must (proxy upstreams, notification endpoints, storage middleware)', () => {
    const paths = keys.map((k) => k.path);
    for (const p of ['proxy.upstreams[].password', 'notifications.endpoints[].headers', 'middleware.storage[].options.privatekey', 'storage.s3.secretkey', 'meta.postgres.url']) {
      assert.ok(paths.includes(p), p);
    }
  });

  it('marks every key named like a password, secret, token, key or credential as secret, or says why not', () => {
    const unmarked = keys
      .filter((k) => CREDENTIAL_NAME.test(k.name))
      .filter((k) => typeof k.schema[SECRET] !== 'string' && typeof k.schema[NOT_SECRET] !== 'string')
      .map((k) => k.path);
    assert.deepEqual(unmarked, [], 'add secret(...) or notSecret(why) to these keys in src/config/sections/');
  });

  it('masks a credential in every key marked secret, as its kind says', () => {
    const marked = keys.filter((k) => typeof k.schema[SECRET] === 'string');
    assert.ok(marked.length >= 15, `only ${marked.length} secret keys found`);
    for (const k of marked) {
      const kind = k.schema[SECRET] as string;
      assert.ok(kind in samples, `${k.path}: unknown secret kind ${kind}`);
      const shown = JSON.stringify(maskWith(k.schema, samples[kind]));
      assert.doesNotMatch(shown, new RegExp(SAMPLE), `${k.path} (${kind}) shows ${shown}`);
    }
  });

  it('keeps what tells servers apart: the host of a URL, a plain file path, harmless headers', () => {
    const url = keys.find((k) => k.path === 'meta.postgres.url')!.schema;
    assert.equal(maskWith(url, 'postgres://berth:pw@db.example.com:5432/berth'), 'postgres://berth:***@db.example.com:5432/berth');
    assert.equal(maskWith(url, 'postgres://db.example.com/berth'), 'postgres://db.example.com/berth');
    const key = keys.find((k) => k.path === 'http.tls.key')!.schema;
    assert.equal(maskWith(key, '/etc/berth/tls.key'), '/etc/berth/tls.key');
    const headers = keys.find((k) => k.path === 'notifications.endpoints[].headers')!.schema;
    assert.deepEqual(maskWith(headers, samples.headers), { Authorization: ['[redacted]'], 'X-Api-Key': ['[redacted]'], Accept: ['application/json'] });
  });
});
