// `storage.s3`: Distribution's S3 driver keys (docs/storage-drivers/s3.md), same names and defaults,
// so a registry:2 config.yml for S3 works unchanged. Keys absent here fall back to the standard
// AWS environment and files (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials, ...).
// Imports only typebox: the configuration schema is built from this file (import rules), so the
// masking marks of src/config/sections/common.ts (secret(), notSecret()) are written out here.
import { Type } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;
/** src/config/sections/common.ts's SECRET mark: config printers hide the value (mask.ts). */
const secret = (kind: 'value' | 'url' = 'value') => ({ 'x-berth-secret': kind });
/** src/config/sections/common.ts's NOT_SECRET mark. */
const notSecret = (why: string) => ({ 'x-berth-not-secret': why });

const MiB = 1024 * 1024;
/** S3's smallest part (all but the last part of a multipart upload). */
const MIN_PART = 5 * MiB;
/** S3's largest part and largest single copy. */
const MAX_PART = 5 * 1024 * MiB;

export const S3Schema = Type.Object({
  // The key id is masked too: with the secret it names the account, and printed configs get pasted.
  accesskey: Type.Optional(Type.String(secret())),
  secretkey: Type.Optional(Type.String(secret())),
  sessiontoken: Type.Optional(Type.String(secret())),
  region: Type.Optional(Type.String({ minLength: 1 })),
  regionendpoint: Type.Optional(Type.String(secret('url'))),
  forcepathstyle: Type.Boolean({ default: false }),
  accelerate: Type.Boolean({ default: false }),
  usedualstack: Type.Boolean({ default: false }),
  bucket: Type.String({ minLength: 3 }),
  encrypt: Type.Boolean({ default: false }),
  keyid: Type.Optional(Type.String(notSecret('the KMS key\'s id or ARN, not key material'))),
  secure: Type.Boolean({ default: true }),
  skipverify: Type.Boolean({ default: false }),
  v4auth: Type.Boolean({ default: true }),
  chunksize: Type.Integer({ default: 10 * MiB, minimum: MIN_PART, maximum: MAX_PART }),
  multipartcopychunksize: Type.Integer({ default: 32 * MiB, minimum: MIN_PART, maximum: MAX_PART }),
  multipartcopymaxconcurrency: Type.Integer({ default: 100, minimum: 1 }),
  multipartcopythresholdsize: Type.Integer({ default: 32 * MiB, minimum: 0, maximum: MAX_PART }),
  rootdirectory: Type.String({ default: '' }),
  storageclass: Type.String({ default: 'STANDARD' }),
  objectacl: Type.String({ default: 'private' }),
  useragent: Type.Optional(Type.String()),
  loglevel: Type.Optional(Type.String()),
  maxretries: Type.Optional(Type.Integer({ minimum: 0 })),
}, strict);
