// `middleware`: Distribution's storage middleware (cloudfront, redirect), which send blob GETs
// to a CDN or another base URL. Registry and repository middleware are Go plugins there.
import { Type } from '@sinclair/typebox';
import { millis, misnamed, notSecret, secret, strict, unimplemented } from './common.js';

const CloudFrontOptions = Type.Object({
  baseurl: Type.String({ minLength: 1, ...secret('url') }),
  /** Path of the PEM private key of the CloudFront key pair (or trusted key group key). */
  privatekey: Type.String({ minLength: 1, ...secret('path'), ...misnamed('secretkey', 'privatekeyfile', 'keyfile') }),
  keypairid: Type.String({ minLength: 1, ...notSecret('CloudFront\'s public id of the key pair') }),
  duration: millis('20m'),
  ipfilteredby: Type.Union([Type.Literal('none'), Type.Literal('aws'), Type.Literal('awsregion')], { default: 'none' }),
  /** Comma-separated regions (Distribution accepts a list or a string). */
  awsregion: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  updatefrequency: millis('12h'),
  iprangesurl: Type.Optional(Type.String(secret('url'))),
  /** Berth: a local copy of ip-ranges.json, for registries without internet access. */
  iprangesfile: Type.Optional(Type.String()),
  /** Berth: proxies whose X-Forwarded-For is believed (CIDRs); otherwise the peer address counts. */
  trustedproxies: Type.Array(Type.String(), { default: [] }),
}, strict);

const RedirectOptions = Type.Object({ baseurl: Type.String({ minLength: 1, ...secret('url') }) }, strict);

const StorageMiddleware = Type.Union([
  Type.Object({ name: Type.Literal('cloudfront'), disabled: Type.Optional(Type.Boolean()), options: CloudFrontOptions }, strict),
  Type.Object({ name: Type.Literal('redirect'), disabled: Type.Optional(Type.Boolean()), options: RedirectOptions }, strict),
]);

export const MiddlewareSection = Type.Object({
  storage: Type.Array(StorageMiddleware, { default: [] }),
  registry: unimplemented('registry middleware (Go plugins in Distribution) is not supported'),
  repository: unimplemented('repository middleware (Go plugins in Distribution) is not supported'),
}, { ...strict, default: {} });
