// `storage`: which driver, and the storage-wide switches Distribution has.
import { Type } from '@sinclair/typebox';
import { duration, strict, unimplemented } from './common.js';
import { S3Section } from './s3.js';

const UploadPurging = Type.Object({
  enabled: Type.Boolean({ default: true }),
  age: duration('168h'),
  interval: duration('24h'),
  dryrun: Type.Boolean({ default: false }),
}, { ...strict, default: {} });

export const StorageSection = Type.Object({
  filesystem: Type.Optional(Type.Object({
    rootdirectory: Type.String({ default: './data', minLength: 1 }),
    maxthreads: Type.Integer({ default: 100, minimum: 25 }),
  }, strict)),
  inmemory: Type.Optional(Type.Union([Type.Null(), Type.Object({}, strict)])),
  delete: Type.Object({ enabled: Type.Boolean({ default: false }) }, { ...strict, default: {} }),
  /**
   * Berth's addition: `POST ?mount=<digest>` without `from` mounts the blob from a repository
   * the caller may pull that holds it (the spec's automatic content discovery); else 202.
   */
  crossmount: Type.Object({
    automatic: Type.Boolean({ default: true }),
    /** Repositories looked at per mount before giving up (each costs one storage stat). */
    maxrepositories: Type.Integer({ default: 500, minimum: 1 }),
  }, { ...strict, default: {} }),
  maintenance: Type.Object({
    uploadpurging: UploadPurging,
    readonly: Type.Object({ enabled: Type.Boolean({ default: false }) }, { ...strict, default: {} }),
  }, { ...strict, default: {} }),
  cache: Type.Optional(Type.Object({
    blobdescriptor: Type.Optional(Type.String()),
    blobdescriptorsize: Type.Optional(Type.Integer()),
  }, strict)),
  // Blob GETs answer 307 to the driver's presigned URL (S3) when the driver can make one.
  redirect: Type.Object({
    disable: Type.Boolean({ default: false }),
    /** Berth's addition: how long a presigned URL stays valid (Distribution: fixed 20m). */
    expiry: duration('20m'),
  }, { ...strict, default: {} }),
  s3: S3Section,
  azure: unimplemented('the Azure driver is not implemented'),
  gcs: unimplemented('the GCS driver is not implemented'),
  swift: unimplemented('the Swift driver is not implemented'),
  oss: unimplemented('the OSS driver is not implemented'),
}, { ...strict, default: {} });
