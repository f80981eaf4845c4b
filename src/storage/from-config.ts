// Builds the configured storage driver: the only place that knows the concrete drivers and
// storage middleware. Capabilities (redirects, chunk minimum) ride on the returned driver.
import { resolve } from 'node:path';
import type { StorageDriver } from './driver.js';
import { FilesystemDriver } from './drivers/filesystem.js';
import { MemoryDriver } from './drivers/memory.js';
import type { S3DriverOptions } from './drivers/s3/options.js';
import { canPresign, CapableDriver, type BlobRedirects, type StorageCapabilities } from './middleware/capabilities.js';
import { PresignRedirects } from './middleware/presign-redirects.js';
import { BaseUrlRedirects } from './middleware/baseurl-redirects.js';
import { CloudFrontRedirects, loadPrivateKey } from './middleware/cloudfront-redirects.js';
import { AwsIpRanges } from './middleware/aws-ip-ranges.js';
import { addressList } from './middleware/client-address.js';

export interface CloudFrontMiddlewareOptions {
  baseurl: string;
  privatekey: string;
  keypairid: string;
  duration: string;
  ipfilteredby: 'none' | 'aws' | 'awsregion';
  awsregion?: string | string[] | undefined;
  updatefrequency: string;
  iprangesurl?: string | undefined;
  iprangesfile?: string | undefined;
  trustedproxies: string[];
}

export type StorageMiddlewareEntry =
  | { name: 'cloudfront'; disabled?: boolean | undefined; options: CloudFrontMiddlewareOptions }
  | { name: 'redirect'; disabled?: boolean | undefined; options: { baseurl: string } };

/** The part of the configuration read here; structural, so that storage does not import config. */
export interface StorageSelection {
  storage: {
    inmemory?: unknown;
    filesystem?: { rootdirectory?: string } | undefined;
    s3?: S3DriverOptions | undefined;
    redirect?: { disable: boolean; expiry: string } | undefined;
  };
  middleware?: { storage?: StorageMiddlewareEntry[] } | undefined;
}

/**
 * `parseDuration` turns the config's Go-style durations into milliseconds. Async because the S3
 * driver (the AWS SDK takes seconds to load on a busy machine) is only loaded when configured.
 */
/**
 * `decorate` wraps the concrete driver (metrics timing, say) beneath the capability layer, so the
 * capabilities found on the concrete driver stay visible to the HTTP layer and the GC lock.
 */
export async function driverFromConfig(
  config: StorageSelection, parseDuration: (text: string) => number, decorate: (driver: StorageDriver) => StorageDriver = (d) => d,
): Promise<StorageDriver> {
  const driver = await baseDriver(config);
  const capabilities: StorageCapabilities = {};
  const minChunk = (driver as { minChunkLength?: unknown }).minChunkLength;
  if (typeof minChunk === 'number') capabilities.minChunkLength = minChunk;
  const redirect = config.storage.redirect ?? { disable: false, expiry: '20m' };
  let redirects: BlobRedirects | undefined = canPresign(driver)
    ? new PresignRedirects(driver, parseDuration(redirect.expiry) / 1000)
    : undefined;
  for (const entry of config.middleware?.storage ?? []) {
    if (entry.disabled) continue;
    redirects = entry.name === 'redirect'
      ? new BaseUrlRedirects(entry.options.baseurl)
      : cloudFront(entry.options, redirects, parseDuration, bucketKeyOf(driver));
  }
  // Distribution: storage.redirect.disable turns every redirect off, middleware's too.
  if (redirects && !redirect.disable) capabilities.redirects = redirects;
  return new CapableDriver(decorate(driver), capabilities);
}

async function baseDriver(config: StorageSelection): Promise<StorageDriver> {
  if (config.storage.s3 !== undefined) {
    const { S3Driver } = await import('./drivers/s3/s3-driver.js');
    return new S3Driver(config.storage.s3);
  }
  if (config.storage.inmemory !== undefined) return new MemoryDriver();
  const root = config.storage.filesystem?.rootdirectory ?? './data';
  return new FilesystemDriver(resolve(root));
}

/** The S3 driver's bucket key for a path (rootdirectory included), as CloudFront URLs need it. */
function bucketKeyOf(driver: StorageDriver): ((path: string) => string) | undefined {
  const key = (driver as { key?: unknown }).key;
  return typeof key === 'function' ? (path) => (key as (p: string) => string).call(driver, path) : undefined;
}

function cloudFront(
  o: CloudFrontMiddlewareOptions, inner: BlobRedirects | undefined, parseDuration: (t: string) => number, keyOf: ((path: string) => string) | undefined,
): CloudFrontRedirects {
  let ipFilter: AwsIpRanges | undefined;
  if (o.ipfilteredby !== 'none') {
    const regions = typeof o.awsregion === 'string' ? o.awsregion.split(',').map((r) => r.trim()).filter(Boolean) : o.awsregion;
    if (o.ipfilteredby === 'awsregion' && (!regions || regions.length === 0)) {
      throw new Error('cloudfront middleware: ipfilteredby awsregion needs awsregion');
    }
    ipFilter = new AwsIpRanges({
      file: o.iprangesfile, url: o.iprangesurl, regions: o.ipfilteredby === 'awsregion' ? regions : undefined,
      updateMs: parseDuration(o.updatefrequency),
      onError: (err) => process.emitWarning(`cloudfront middleware: AWS IP ranges not loaded: ${(err as Error).message}`),
    });
    void ipFilter.start();
  }
  return new CloudFrontRedirects({
    baseurl: o.baseurl, privateKey: loadPrivateKey(o.privatekey), keyPairId: o.keypairid,
    durationMs: parseDuration(o.duration), ipFilter, trustedProxies: addressList(o.trustedproxies), inner, keyOf,
  });
}
