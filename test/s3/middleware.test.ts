// Storage middleware built from configuration, without a server: which redirect a request gets
// (client address, trusted proxies, AWS ranges), the redirect middleware's URLs, the S3 key
// layout, and redirect.disable. No S3 is contacted.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { Static } from '@sinclair/typebox';
import { driverFromConfig, type StorageSelection } from '../../src/storage/from-config.js';
import { S3Schema } from '../../src/storage/drivers/s3/schema.js';
import { minChunkLengthOf, redirectsOf } from '../../src/storage/driver.js';
import { addressList, clientAddress } from '../../src/storage/middleware/client-address.js';
import { AwsIpRanges } from '../../src/storage/middleware/aws-ip-ranges.js';
import { loadConfig } from '../../src/config/load.js';
import { S3Driver } from '../../src/storage/drivers/s3/s3-driver.js';
import { copyRanges } from '../../src/storage/drivers/s3/multipart.js';

const MiB = 1024 * 1024;
const s3Keys = { bucket: 'images', region: 'us-east-1', regionendpoint: 'http://127.0.0.1:1', accesskey: 'a', secretkey: 'b', forcepathstyle: true };
/** The S3 section as the loader hands it over: schema defaults applied. */
const s3Options = (extra: Record<string, unknown> = {}) => Value.Default(S3Schema, { ...s3Keys, ...extra }) as Static<typeof S3Schema>;
const s3 = s3Options();
const BLOB = '/docker/registry/v2/blobs/sha256/ab/abcd/data';

describe('storage middleware from configuration', () => {
  let dir: string;
  let keyFile: string;
  let ranges: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-mw-'));
    keyFile = join(dir, 'k.pem');
    await writeFile(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }));
    ranges = join(dir, 'ip-ranges.json');
    await writeFile(ranges, JSON.stringify({
      prefixes: [{ ip_prefix: '203.0.113.0/24', region: 'eu-west-1' }, { ip_prefix: '198.51.100.0/24', region: 'us-east-2' }],
      ipv6_prefixes: [{ ipv6_prefix: '2001:db8::/32', region: 'eu-west-1' }],
    }));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const build = (config: StorageSelection) => driverFromConfig(config);

  it('on the filesystem: no redirect and no chunk minimum unless a middleware adds a redirect', async () => {
    const plain = await build({ storage: { driver: 'filesystem', filesystem: { rootdirectory: dir, maxthreads: 100 } } });
    assert.equal(redirectsOf(plain), undefined);
    assert.equal(minChunkLengthOf(plain), undefined);
    const redirected = await build({
      storage: { driver: 'filesystem', filesystem: { rootdirectory: dir, maxthreads: 100 } },
      middleware: { storage: [{ name: 'redirect', options: { baseurl: 'https://mirror.example.com/base/' } }] },
    });
    assert.equal(await redirectsOf(redirected)?.redirectURL(BLOB, { remoteAddress: '192.0.2.1' }),
      `https://mirror.example.com/base${BLOB}`);
  });

  it('on S3: presigned redirects by default with the configured expiry, none with redirect.disable', async () => {
    const d = await build({ storage: { driver: 's3', s3, redirect: { disable: false, expiry: 90_000 } } });
    assert.equal(minChunkLengthOf(d), 10 * MiB, "Distribution's default chunksize");
    const url = new URL((await redirectsOf(d)?.redirectURL(BLOB, { remoteAddress: '192.0.2.1' }))!);
    assert.equal(url.origin, 'http://127.0.0.1:1');
    assert.equal(url.pathname, `/images${BLOB}`);
    assert.equal(url.searchParams.get('X-Amz-Expires'), '90');
    const off = await build({ storage: { driver: 's3', s3, redirect: { disable: true, expiry: 20 * 60_000 } } });
    assert.equal(redirectsOf(off), undefined);
    const cdnOff = await build({
      storage: { driver: 's3', s3, redirect: { disable: true, expiry: 20 * 60_000 } },
      middleware: { storage: [{ name: 'redirect', options: { baseurl: 'https://cdn.example.com' } }] },
    });
    assert.equal(redirectsOf(cdnOff), undefined, 'redirect.disable turns middleware redirects off too');
  });

  it('cloudfront with ipfilteredby awsregion: in-region clients get S3, others the CDN; IPv6 too', async () => {
    const d = await build({
      storage: { driver: 's3', s3 },
      middleware: {
        storage: [{
          name: 'cloudfront',
          options: {
            baseurl: 'https://d111111abcdef8.cloudfront.net/', privatekey: keyFile, keypairid: 'KID', duration: 20 * 60_000,
            ipfilteredby: 'awsregion', awsregion: 'eu-west-1, eu-central-1', updatefrequency: 12 * 3_600_000, iprangesfile: ranges,
            trustedproxies: [],
          },
        }],
      },
    });
    const r = redirectsOf(d)!;
    const host = async (remoteAddress: string, forwardedFor?: string) =>
      new URL((await r.redirectURL(BLOB, { remoteAddress, forwardedFor }))!).host;
    assert.equal(await host('203.0.113.5'), '127.0.0.1:1');
    assert.equal(await host('::ffff:203.0.113.5'), '127.0.0.1:1', 'a mapped IPv4 address');
    assert.equal(await host('2001:db8::7'), '127.0.0.1:1');
    assert.equal(await host('198.51.100.5'), 'd111111abcdef8.cloudfront.net', 'another region');
    assert.equal(await host('127.0.0.1', '203.0.113.5'), 'd111111abcdef8.cloudfront.net', 'X-Forwarded-For from an untrusted peer is ignored');
  });

  it("cloudfront signs Distribution's URL: baseurl + the full S3 key, rootdirectory included", async () => {
    const signed = async (baseurl: string, rootdirectory: string) => {
      const d = await build({
        storage: { driver: 's3', s3: s3Options({ rootdirectory }) },
        middleware: {
          storage: [{
            name: 'cloudfront',
            options: { baseurl, privatekey: keyFile, keypairid: 'KID', duration: 20 * 60_000, ipfilteredby: 'none', updatefrequency: 12 * 3_600_000, trustedproxies: [] },
          }],
        },
      });
      const url = (await redirectsOf(d)?.redirectURL(BLOB, { remoteAddress: '192.0.2.1' }))!;
      return url.slice(0, url.indexOf('?'));
    };
    // Distribution 2.8: urlSigner.Sign(baseURL + S3BucketKey(path)), S3BucketKey = rootdirectory + path without the leading slash.
    assert.equal(await signed('https://d111111abcdef8.cloudfront.net', '/reg/root/'), `https://d111111abcdef8.cloudfront.net/reg/root${BLOB}`);
    assert.equal(await signed('https://cdn.example.com/edge/', 'reg'), `https://cdn.example.com/edge/reg${BLOB}`);
    assert.equal(await signed('cdn.example.com', '/'), `https://cdn.example.com${BLOB}`, 'https:// added where baseurl has no scheme');
  });

  it('ipfilteredby aws covers every region', async () => {
    const filter = new AwsIpRanges({ file: ranges, updateMs: 0 });
    await filter.start();
    assert.equal(filter.size, 3);
    assert.ok(filter.contains('198.51.100.1') && filter.contains('203.0.113.1') && !filter.contains('192.0.2.1'));
  });

  it('keeps the ranges it has when a refresh fails', async () => {
    const errors: unknown[] = [];
    const file = join(dir, 'ranges-then-broken.json');
    await writeFile(file, JSON.stringify({ prefixes: [{ ip_prefix: '203.0.113.0/24', region: 'x' }] }));
    const filter = new AwsIpRanges({ file, updateMs: 0, onError: (e) => errors.push(e) });
    await filter.load();
    await writeFile(file, '{ not json');
    await filter.load();
    assert.equal(errors.length, 1);
    assert.ok(filter.contains('203.0.113.77'));
  });
});

describe('client address', () => {
  const trusted = addressList(['127.0.0.1/32', '10.0.0.0/8']);
  it('is the peer, unless the peer is a trusted proxy; then the first untrusted X-Forwarded-For hop from the right', () => {
    assert.equal(clientAddress({ remoteAddress: '192.0.2.9', forwardedFor: '203.0.113.1' }, trusted), '192.0.2.9');
    assert.equal(clientAddress({ remoteAddress: '10.1.2.3', forwardedFor: '203.0.113.1, 10.9.9.9' }, trusted), '203.0.113.1');
    assert.equal(clientAddress({ remoteAddress: '10.1.2.3', forwardedFor: '203.0.113.1, 198.51.100.9' }, trusted), '198.51.100.9', 'a first hop the client wrote itself');
    assert.equal(clientAddress({ remoteAddress: '::ffff:127.0.0.1', forwardedFor: ' 198.51.100.4 ' }, trusted), '198.51.100.4');
    assert.equal(clientAddress({ remoteAddress: '127.0.0.1', forwardedFor: 'garbage' }, trusted), '127.0.0.1');
    assert.equal(clientAddress({ remoteAddress: '127.0.0.1' }, trusted), '127.0.0.1');
  });
  it('refuses a trusted proxy entry that is no address', () => {
    assert.throws(() => addressList(['not-an-ip/8']), /not an IP address/);
  });
});

describe('S3 driver without a network', () => {
  it('maps paths to keys the way Distribution does', () => {
    assert.equal(new S3Driver({ ...s3, rootdirectory: '' }).key('/docker/registry/v2/x'), 'docker/registry/v2/x');
    assert.equal(new S3Driver({ ...s3, rootdirectory: '/' }).key('/docker/registry/v2/x'), 'docker/registry/v2/x');
    assert.equal(new S3Driver({ ...s3, rootdirectory: '/a/b/' }).key('/docker/registry/v2/x'), 'a/b/docker/registry/v2/x');
    assert.equal(new S3Driver({ ...s3, rootdirectory: 'a' }).key('/'), 'a');
  });
  it('splits copies into parts where only the last may be under 5 MiB', () => {
    assert.deepEqual(copyRanges(0, 12 * MiB, 5 * MiB), [[0, 5 * MiB], [5 * MiB, 12 * MiB]]);
    assert.deepEqual(copyRanges(0, 3, 5 * MiB), [[0, 3]]);
    assert.deepEqual(copyRanges(MiB, 11 * MiB + 1, 5 * MiB), [[MiB, 6 * MiB], [6 * MiB, 11 * MiB + 1]]);
  });
});

describe('middleware configuration', () => {
  it('reads Distribution\'s middleware.storage entries with their defaults, and refuses an unknown one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-mw-config-'));
    try {
      const file = join(dir, 'config.yml');
      await writeFile(file, [
        'version: 0.1', 'storage:', '  s3:', '    region: us-east-1', '    bucket: images', 'middleware:', '  storage:',
        '    - name: cloudfront', '      options:', '        baseurl: https://d1.cloudfront.net/', '        privatekey: /k.pem',
        '        keypairid: KID', '        ipfilteredby: aws', '    - name: redirect', '      options:', '        baseurl: https://m.example.com', '',
      ].join('\n'));
      const { config, warnings } = loadConfig({ file });
      assert.deepEqual(warnings, []);
      const [cf, redirect] = config.middleware.storage;
      assert.equal(cf?.name, 'cloudfront');
      assert.equal(cf?.name === 'cloudfront' ? cf.options.duration : 0, 20 * 60_000);
      assert.equal(cf?.name === 'cloudfront' ? cf.options.updatefrequency : 0, 12 * 3_600_000);
      assert.equal(redirect?.name, 'redirect');
      assert.equal(config.storage.redirect.disable, false);
      await writeFile(file, 'version: 0.1\nmiddleware:\n  storage:\n    - name: fastly\n      options: {}\n');
      assert.throws(() => loadConfig({ file }), /middleware\.storage/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

