// The S3 driver's entry point for the driver map (../registry.ts).
import type { Static } from '@sinclair/typebox';
import type { StorageDriver } from '../../driver.js';
import { S3Driver } from './s3-driver.js';
import type { S3Schema } from './schema.js';

export { S3Driver };

export function create(options: Static<typeof S3Schema>): StorageDriver {
  return new S3Driver(options);
}
