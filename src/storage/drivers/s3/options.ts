// The S3 driver's settings (Distribution's `storage.s3` keys, resolved) and the S3 client they
// configure. Credentials missing from the config come from the SDK's default chain: the AWS_*
// environment, shared config/credentials files, web identity, container or instance roles.
import { Agent as HttpsAgent } from 'node:https';
import { S3Client, type PutObjectCommandInput, type S3ClientConfig } from '@aws-sdk/client-s3';

export const MiB = 1024 * 1024;
/** S3's smallest part: every part of a multipart upload but the last is at least this big. */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part, and the largest range one UploadPartCopy may copy. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;

export interface S3DriverOptions {
  bucket: string;
  region?: string | undefined;
  regionendpoint?: string | undefined;
  accesskey?: string | undefined;
  secretkey?: string | undefined;
  sessiontoken?: string | undefined;
  forcepathstyle?: boolean;
  accelerate?: boolean;
  usedualstack?: boolean;
  secure?: boolean;
  skipverify?: boolean;
  encrypt?: boolean;
  keyid?: string | undefined;
  rootdirectory?: string;
  chunksize?: number;
  multipartcopychunksize?: number;
  multipartcopymaxconcurrency?: number;
  multipartcopythresholdsize?: number;
  storageclass?: string;
  objectacl?: string;
  useragent?: string | undefined;
  maxretries?: number | undefined;
}

export type WriteParams = Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId' | 'StorageClass' | 'ACL'>;

/** The options with Distribution's defaults filled in. */
export interface ResolvedS3Options {
  bucket: string;
  /** Key prefix for every path: rootdirectory without leading or trailing slashes. */
  rootKey: string;
  chunkSize: number;
  copyChunkSize: number;
  copyConcurrency: number;
  copyThreshold: number;
  /** Parameters every object write carries: encryption, storage class, ACL. */
  writeParams: WriteParams;
}

export function resolveOptions(o: S3DriverOptions): ResolvedS3Options {
  const writeParams: WriteParams = {};
  if (o.encrypt) {
    writeParams.ServerSideEncryption = o.keyid ? 'aws:kms' : 'AES256';
    if (o.keyid) writeParams.SSEKMSKeyId = o.keyid;
  }
  const storageClass = o.storageclass ?? 'STANDARD';
  // Distribution: "NONE" leaves the class to the bucket's default (for S3-compatibles without classes).
  if (storageClass !== 'NONE' && storageClass !== 'STANDARD') writeParams.StorageClass = storageClass as WriteParams['StorageClass'];
  if (o.objectacl && o.objectacl !== 'private') writeParams.ACL = o.objectacl as WriteParams['ACL'];
  const chunkSize = Math.max(o.chunksize ?? 10 * MiB, MIN_PART_SIZE);
  return {
    bucket: o.bucket,
    rootKey: (o.rootdirectory ?? '').replace(/^\/+|\/+$/g, ''),
    chunkSize,
    copyChunkSize: Math.min(Math.max(o.multipartcopychunksize ?? 32 * MiB, MIN_PART_SIZE), MAX_PART_SIZE),
    copyConcurrency: Math.max(1, o.multipartcopymaxconcurrency ?? 100),
    copyThreshold: Math.min(o.multipartcopythresholdsize ?? 32 * MiB, MAX_PART_SIZE),
    writeParams,
  };
}

/** An endpoint without a scheme gets one from `secure`, as in Distribution. */
export function endpointUrl(o: S3DriverOptions): string | undefined {
  const e = o.regionendpoint?.trim();
  if (!e) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(e)) return e;
  return `${o.secure === false ? 'http' : 'https'}://${e}`;
}

export function createS3Client(o: S3DriverOptions): S3Client {
  const config: S3ClientConfig = {
    forcePathStyle: o.forcepathstyle ?? false,
    useAccelerateEndpoint: o.accelerate ?? false,
    useDualstackEndpoint: o.usedualstack ?? false,
    // S3-compatible stores (radosgw, MinIO, ...) predate the SDK's default CRC checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  const endpoint = endpointUrl(o);
  if (endpoint) config.endpoint = endpoint;
  if (o.region) config.region = o.region;
  else if (!process.env['AWS_REGION'] && !process.env['AWS_DEFAULT_REGION'] && endpoint) config.region = 'us-east-1';
  if (o.accesskey && o.secretkey) {
    config.credentials = {
      accessKeyId: o.accesskey,
      secretAccessKey: o.secretkey,
      ...(o.sessiontoken ? { sessionToken: o.sessiontoken } : {}),
    };
  }
  if (o.useragent) config.customUserAgent = o.useragent;
  if (o.maxretries !== undefined) config.maxAttempts = o.maxretries + 1;
  if (o.skipverify) {
    config.requestHandler = { httpsAgent: new HttpsAgent({ rejectUnauthorized: false }) };
  }
  return new S3Client(config);
}
