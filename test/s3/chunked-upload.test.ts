// Chunked uploads on a real S3 (radosgw): each PATCH's bytes are sent once, as parts of one
// multipart upload kept open between PATCHes (no server-side re-copy of earlier chunks), at most
// one part is held in memory, and another registry instance with no shared process state (a
// second replica, or the same one after a restart) continues the upload from what is in the
// bucket: the pending state with the hash state attached, never a re-read of the data.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { S3Driver } from '../../src/storage/drivers/s3/s3-driver.js';
import type { S3Writer } from '../../src/storage/drivers/s3/s3-writer.js';
import type { FileWriter } from '../../src/storage/driver.js';
import { Registry } from '../../src/registry/registry.js';
import { layout } from '../../src/registry/layout.js';
import { tryParseDigest, type Digest } from '../../src/oci/digest.js';
import { RegistryError } from '../../src/errors/index.js';
import { driverOptions, newBucket, radosgw, radosgwSkip, s3Client, stopRadosgw, type RadosGateway } from './support/radosgw.js';

const MiB = 1024 * 1024;
const BODY_CHUNK = 64 * 1024;

interface Sent {
  command: string;
  key: string;
  length?: number;
}

/** Records every S3 request with its key and body length. */
function requestLog(client: S3Client): Sent[] {
  const sent: Sent[] = [];
  client.middlewareStack.add((next, context) => async (args) => {
    const input = args.input as { Key?: string; ContentLength?: number };
    sent.push({
      command: String(context.commandName ?? '').replace(/Command$/, ''),
      key: input.Key ?? '',
      ...(input.ContentLength !== undefined ? { length: input.ContentLength } : {}),
    });
    return next(args);
  }, { step: 'initialize', name: `berthRequestLog${Math.random()}` });
  return sent;
}

/** The S3 driver, remembering the writers it hands out (to read how much each buffered). */
class WatchedS3Driver extends S3Driver {
  readonly writers: S3Writer[] = [];

  override async writer(path: string, options?: { append?: boolean }): Promise<FileWriter> {
    const w = await super.writer(path, options);
    this.writers.push(w as S3Writer);
    return w;
  }
}

async function* slices(data: Buffer): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += BODY_CHUNK) yield data.subarray(i, i + BODY_CHUNK);
}

const digestOf = (h: ReturnType<typeof createHash>) => tryParseDigest(`sha256:${h.copy().digest('hex')}`) as Digest;

describe('chunked uploads on S3 (radosgw)', { skip: radosgwSkip }, () => {
  let gw: RadosGateway;
  let bucket: string;
  const drivers: S3Driver[] = [];
  const replica = () => {
    const d = new WatchedS3Driver(driverOptions(gw, bucket, { rootdirectory: '/reg' }));
    drivers.push(d);
    return { driver: d, registry: new Registry(d), sent: requestLog(d.client) };
  };
  const leftovers = async (prefix: string) => {
    const client = s3Client(gw);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    const objects = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    client.destroy();
    return { uploads: uploads.Uploads ?? [], objects: (objects.Contents ?? []).map((o) => o.Key) };
  };

  before(async () => {
    gw = await radosgw();
    bucket = await newBucket(gw);
  });
  after(async () => {
    for (const d of drivers) d.client.destroy();
    await stopRadosgw();
  });

  it('sends 20 PATCHes of 5 MiB once each: no server-side copy before the final PUT, at most one part held', async () => {
    const { driver, registry, sent } = replica();
    const name = 'chunked/twenty';
    const id = await registry.uploads.start(name);
    const whole = createHash('sha256');
    for (let i = 0; i < 20; i++) {
      const chunk = randomBytes(5 * MiB);
      whole.update(chunk);
      assert.equal(await registry.uploads.append(name, id, slices(chunk), { start: i * 5 * MiB, length: chunk.length }), (i + 1) * 5 * MiB);
    }
    assert.equal(await registry.uploads.size(name, id), 100 * MiB);
    const copies = sent.filter((s) => s.command === 'UploadPartCopy' || s.command === 'CopyObject');
    assert.deepEqual(copies, [], 'no chunk re-copies the ones before it');
    const parts = sent.filter((s) => s.command === 'UploadPart');
    assert.equal(parts.length, 20, 'one part per 5 MiB PATCH');
    assert.equal(parts.reduce((n, s) => n + (s.length ?? 0), 0), 100 * MiB, 'every byte sent exactly once');
    assert.ok(!sent.some((s) => s.command === 'GetObject' && s.key.endsWith('/data')), 'the data is never read back');
    const peak = Math.max(...driver.writers.map((w) => w.peakBuffered));
    assert.ok(peak <= 10 * MiB + BODY_CHUNK, `at most one part (10 MiB) buffered, saw ${peak}`);

    const digest = digestOf(whole);
    const before = sent.length;
    assert.equal(await registry.uploads.complete(name, id, digest), 100 * MiB);
    const finish = sent.slice(before).map((s) => s.command);
    assert.ok(finish.includes('CompleteMultipartUpload'), finish.join(','));
    assert.equal(finish.filter((c) => c === 'UploadPart').length, 0, 'the PUT sends no data again');
    const stored = createHash('sha256');
    for await (const c of await driver.reader(layout.blobData(digest))) stored.update(c as Buffer);
    assert.equal(`sha256:${stored.digest('hex')}`, digest.value);
    assert.deepEqual(await leftovers(`reg${layout.upload(name, id)}`), { uploads: [], objects: [] });
  });

  it('is continued half-way by another replica with no shared process state, digest verified', async () => {
    const name = 'chunked/replicas';
    const sizes = [7 * MiB, 3 * MiB + 11, 2 * MiB, 6 * MiB, MiB - 5, 5 * MiB];
    const data = sizes.map((n) => randomBytes(n));
    const whole = createHash('sha256');
    let offset = 0;
    const first = replica();
    const id = await first.registry.uploads.start(name);
    for (const chunk of data.slice(0, 3)) {
      whole.update(chunk);
      offset = await first.registry.uploads.append(name, id, slices(chunk), { start: offset });
    }
    const second = replica();
    assert.equal(await second.registry.uploads.size(name, id), offset);
    for (const chunk of data.slice(3, 5)) {
      whole.update(chunk);
      offset = await second.registry.uploads.append(name, id, slices(chunk), { start: offset });
    }
    assert.ok(!second.sent.some((s) => s.command === 'GetObject' && s.key.endsWith('/data')), 'no re-read of the data');
    assert.ok(second.sent.some((s) => s.command === 'GetObject' && s.key.endsWith('/data.berth-pending')),
      'the pending state, with the hash state attached, is loaded');

    const third = replica();
    const last = data[5]!;
    const wrong = tryParseDigest(`sha256:${'0'.repeat(64)}`) as Digest;
    await assert.rejects(third.registry.uploads.complete(name, id, wrong, slices(last), { start: offset }),
      (err: unknown) => err instanceof RegistryError && err.code === 'DIGEST_INVALID');
    assert.equal(await third.registry.uploads.size(name, id), offset, 'a refused last chunk leaves the session as it was');
    whole.update(last);
    const digest = digestOf(whole);
    const total = sizes.reduce((n, s) => n + s, 0);
    assert.equal(await third.registry.uploads.complete(name, id, digest, slices(last), { start: offset }), total);
    assert.deepEqual(await third.driver.getContent(layout.blobData(digest)), Buffer.concat(data));
    assert.deepEqual(await leftovers(`reg${layout.upload(name, id)}`), { uploads: [], objects: [] });
  });

  it('two writers racing on one pending upload make the next open fail, never mix one\'s parts with the other\'s record', async () => {
    const { driver } = replica();
    const path = '/race/data';
    const w0 = await driver.writer(path, { append: true });
    await w0.write(randomBytes(6 * MiB));
    await w0.close();
    const a = await driver.writer(path, { append: true }) as S3Writer;
    const b = await driver.writer(path, { append: true }) as S3Writer;
    await b.write(randomBytes(10 * MiB)); // b sends part 2
    await a.write(randomBytes(10 * MiB)); // a replaces part 2
    await b.closeWith(new Uint8Array([1])); // b records its own part 2
    await assert.rejects(driver.writer(path, { append: true }), /does not hold the parts its pending state counts/);
    await a.cancel();
  });

  it('pending data whose hash state is missing fails the next PATCH with BLOB_UPLOAD_INVALID, never a wrong digest', async () => {
    const { driver, registry } = replica();
    const name = 'chunked/no-state';
    const id = await registry.uploads.start(name);
    const w = await driver.writer(layout.uploadData(name, id), { append: true });
    await w.write(randomBytes(MiB));
    await w.close(); // no attachment: as if another program left the data pending
    assert.equal(await registry.uploads.size(name, id), MiB);
    await assert.rejects(registry.uploads.append(name, id, slices(randomBytes(10))),
      (err: unknown) => err instanceof RegistryError && err.code === 'BLOB_UPLOAD_INVALID');
    assert.equal(await registry.uploads.size(name, id), MiB, 'the session is left as it was');
  });

  it('a PATCH that fails half-way leaves the upload to continue, on this or another replica', async () => {
    const name = 'chunked/failed';
    const { registry } = replica();
    const id = await registry.uploads.start(name);
    const good = randomBytes(6 * MiB);
    await registry.uploads.append(name, id, slices(good));
    async function* dies(): AsyncIterable<Uint8Array> {
      for (let i = 0; i < 12; i++) yield randomBytes(MiB);
      throw new Error('client went away');
    }
    await assert.rejects(registry.uploads.append(name, id, dies()), /client went away/);
    const other = replica();
    assert.equal(await other.registry.uploads.size(name, id), good.length);
    const rest = randomBytes(2 * MiB);
    const digest = tryParseDigest(`sha256:${createHash('sha256').update(good).update(rest).digest('hex')}`) as Digest;
    await other.registry.uploads.append(name, id, slices(rest), { start: good.length });
    assert.equal(await other.registry.uploads.complete(name, id, digest), good.length + rest.length);
    assert.deepEqual(await other.driver.getContent(layout.blobData(digest)), Buffer.concat([good, rest]));
  });
});
