// The S3 driver against the shared StorageDriver suite, on a real S3 (radosgw), a fresh bucket
// and root directory per test.
import { after } from 'node:test';
import { randomUUID } from 'node:crypto';
import { S3Driver } from '../../src/storage/drivers/s3/s3-driver.js';
import { driverSuite } from '../suites/driver.suite.js';
import { driverOptions, newBucket, radosgw, radosgwSkip, stopRadosgw } from './support/radosgw.js';

after(stopRadosgw);

if (radosgwSkip) {
  // eslint-disable-next-line no-console
  console.log(`# skipping the S3 driver suite: ${radosgwSkip}`);
} else {
  let bucket: string | undefined;
  driverSuite('s3 (radosgw)', async () => {
    const gw = await radosgw();
    bucket ??= await newBucket(gw);
    const driver = new S3Driver(driverOptions(gw, bucket, { rootdirectory: `/t-${randomUUID()}` }));
    return { driver, cleanup: async () => driver.client.destroy() };
  });
}
