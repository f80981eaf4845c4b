// Builds the configured storage driver: the driver from the driver map, then the storage
// middleware (redirects) as a wrapper on it. Capabilities (redirects, chunk minimum, exclusive
// create) are found on the returned driver by the type guards of driver.ts, through any wrapper.
import { canPresign, hasBucketKeys, type BlobRedirects, type StorageDriver } from './driver.js';
import { createDriver, type DriverSelection } from './drivers/registry.js';
import { PresignRedirects } from './middleware/presign-redirects.js';
import { BaseUrlRedirects } from './middleware/baseurl-redirects.js';
import { CloudFrontRedirects, loadPrivateKey } from './middleware/cloudfront-redirects.js';
import { AwsIpRanges } from './middleware/aws-ip-ranges.js';
import { addressList } from './middleware/client-address.js';
import { RedirectingDriver } from './middleware/redirecting-driver.js';
import { CheckedDriver } from './checked-driver.js';

export interface CloudFrontMiddlewareOptions {
  baseurl: string;
  privatekey: string;
  keypairid: string;
  /** How long a signed URL stays valid, in milliseconds. */
  duration: number;
  ipfilteredby: 'none' | 'aws' | 'awsregion';
  awsregion?: string | string[] | undefined;
  /** How often the AWS IP ranges are fetched again, in milliseconds. */
  updatefrequency: number;
  iprangesurl?: string | undefined;
  iprangesfile?: string | undefined;
  trustedproxies: string[];
}

export type StorageMiddlewareEntry =
  | { name: 'cloudfront'; disabled?: boolean | undefined; options: CloudFrontMiddlewareOptions }
  | { name: 'redirect'; disabled?: boolean | undefined; options: { baseurl: string } };

/**
 * The part of the configuration read here, as loaded (durations in milliseconds); structural, so
 * that storage does not import config.
 */
export interface StorageSelection {
  storage: DriverSelection & {
    redirect?: { disable: boolean; expiry: number } | undefined;
  };
  middleware?: { storage?: StorageMiddlewareEntry[] } | undefined;
}

/**
 * `decorate` wraps the concrete driver (metrics timing, say); every wrapper forwards every
 * capability (base.ts), so where it sits changes nothing the HTTP layer or the GC lock can find.
 */
export async function driverFromConfig(
  config: StorageSelection, decorate: (driver: StorageDriver) => StorageDriver = (d) => d,
): Promise<StorageDriver> {
  const driver = decorate(await createDriver(config.storage));
  // Distribution's defaults (the schema's too), for a selection built in code without them.
  const redirect = config.storage.redirect ?? { disable: false, expiry: 20 * 60_000 };
  let redirects: BlobRedirects | undefined = canPresign(driver)
    ? new PresignRedirects(driver, redirect.expiry / 1000)
    : undefined;
  const keyOf = hasBucketKeys(driver) ? (path: string) => driver.bucketKey(path) : undefined;
  for (const entry of config.middleware?.storage ?? []) {
    if (entry.disabled) continue;
    redirects = entry.name === 'redirect'
      ? new BaseUrlRedirects(entry.options.baseurl)
      : cloudFront(entry.options, redirects, keyOf);
  }
  // Distribution: storage.redirect.disable turns every redirect off, middleware's too.
  const redirected = redirects && !redirect.disable ? new RedirectingDriver(driver, redirects) : driver;
  // Checked on top, so every user of the configured driver (core, listing index, GC) gets it checked.
  return new CheckedDriver(redirected);
}

function cloudFront(
  o: CloudFrontMiddlewareOptions, inner: BlobRedirects | undefined, keyOf: ((path: string) => string) | undefined,
): CloudFrontRedirects {
  let ipFilter: AwsIpRanges | undefined;
  if (o.ipfilteredby !== 'none') {
    const regions = typeof o.awsregion === 'string' ? o.awsregion.split(',').map((r) => r.trim()).filter(Boolean) : o.awsregion;
    if (o.ipfilteredby === 'awsregion' && (!regions || regions.length === 0)) {
      throw new Error('cloudfront middleware: ipfilteredby awsregion needs awsregion');
    }
    ipFilter = new AwsIpRanges({
      file: o.iprangesfile, url: o.iprangesurl, regions: o.ipfilteredby === 'awsregion' ? regions : undefined,
      updateMs: o.updatefrequency,
      onError: (err) => process.emitWarning(`cloudfront middleware: AWS IP ranges not loaded: ${(err as Error).message}`),
    });
    void ipFilter.start();
  }
  return new CloudFrontRedirects({
    baseurl: o.baseurl, privateKey: loadPrivateKey(o.privatekey), keyPairId: o.keypairid,
    durationMs: o.duration, ipFilter, trustedProxies: addressList(o.trustedproxies), inner, keyOf,
  });
}
