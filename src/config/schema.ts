// The one configuration schema. It accepts CNCF Distribution's config.yml; keys Distribution
// knows but Berth does not implement yet are typed `unimplemented()` so startup names them.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const UNIMPLEMENTED = 'x-berth-unimplemented';

/** A Distribution key Berth accepts but does not act on yet; `why` is shown to the operator. */
function unimplemented(why: string): TSchema {
  return Type.Optional(Type.Unknown({ [UNIMPLEMENTED]: why }));
}

const strict = { additionalProperties: false } as const;
const duration = (def: string) => Type.String({ default: def, pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$' });

const Log = Type.Object({
  level: Type.Union([Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug')], { default: 'info' }),
  formatter: Type.Union([Type.Literal('text'), Type.Literal('json'), Type.Literal('logstash')], { default: 'json' }),
  fields: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
  accesslog: Type.Object({ disabled: Type.Boolean({ default: false }) }, { ...strict, default: {} }),
  reportcaller: Type.Boolean({ default: false }),
  hooks: unimplemented('log hooks (mail alerts) are not supported'),
}, { ...strict, default: {} });

const UploadPurging = Type.Object({
  enabled: Type.Boolean({ default: true }),
  age: duration('168h'),
  interval: duration('24h'),
  dryrun: Type.Boolean({ default: false }),
}, { ...strict, default: {} });

const Storage = Type.Object({
  filesystem: Type.Optional(Type.Object({
    rootdirectory: Type.String({ default: './data', minLength: 1 }),
    maxthreads: Type.Integer({ default: 100, minimum: 25 }),
  }, strict)),
  inmemory: Type.Optional(Type.Union([Type.Null(), Type.Object({}, strict)])),
  delete: Type.Object({ enabled: Type.Boolean({ default: false }) }, { ...strict, default: {} }),
  maintenance: Type.Object({
    uploadpurging: UploadPurging,
    readonly: Type.Object({ enabled: Type.Boolean({ default: false }) }, { ...strict, default: {} }),
  }, { ...strict, default: {} }),
  cache: Type.Optional(Type.Object({
    blobdescriptor: Type.Optional(Type.String()),
    blobdescriptorsize: Type.Optional(Type.Integer()),
  }, strict)),
  redirect: Type.Optional(Type.Object({ disable: Type.Boolean({ default: false }) }, strict)),
  s3: unimplemented('the S3 driver is not implemented yet'),
  azure: unimplemented('the Azure driver is not implemented'),
  gcs: unimplemented('the GCS driver is not implemented'),
  swift: unimplemented('the Swift driver is not implemented'),
  oss: unimplemented('the OSS driver is not implemented'),
}, { ...strict, default: {} });

const Http = Type.Object({
  addr: Type.String({ default: ':5000' }),
  net: Type.Union([Type.Literal('tcp'), Type.Literal('unix')], { default: 'tcp' }),
  prefix: Type.String({ default: '' }),
  host: Type.String({ default: '' }),
  secret: Type.Optional(Type.String()),
  relativeurls: Type.Boolean({ default: false }),
  draintimeout: duration('10s'),
  headers: Type.Record(Type.String(), Type.Array(Type.String()), { default: {} }),
  cors: Type.Object({
    allowedorigins: Type.Array(Type.String(), { default: [] }),
    maxage: Type.Integer({ default: 600, minimum: 0 }),
  }, { ...strict, default: {} }),
  limits: Type.Object({
    maxmanifestbytes: Type.Integer({ default: 4 * 1024 * 1024, minimum: 1024 }),
    maxheaderbytes: Type.Integer({ default: 16 * 1024, minimum: 1024 }),
  }, { ...strict, default: {} }),
  tls: unimplemented('TLS termination is not implemented yet: put nginx in front'),
  debug: unimplemented('the debug server (/metrics, pprof) is not implemented yet'),
  http2: unimplemented('HTTP/2 needs TLS, which is not implemented yet'),
}, { ...strict, default: {} });

export const ConfigSchema = Type.Object({
  version: Type.String({ default: '0.1' }),
  log: Log,
  loglevel: Type.Optional(Type.String()),
  storage: Storage,
  http: Http,
  auth: unimplemented('authentication is not implemented yet'),
  notifications: unimplemented('notifications are not implemented yet'),
  proxy: unimplemented('pull-through cache is not implemented yet'),
  redis: unimplemented('redis is not used yet'),
  health: unimplemented('health checks are not implemented yet'),
  middleware: unimplemented('storage and registry middleware are not implemented yet'),
  reporting: unimplemented('bugsnag and newrelic reporting are not supported'),
  validation: unimplemented('manifest URL validation rules are not implemented yet'),
  compatibility: unimplemented('schema1 compatibility is not supported'),
  catalog: Type.Object({ maxentries: Type.Integer({ default: 1000, minimum: 1 }) }, { ...strict, default: {} }),
}, { ...strict, default: {} });

export type Config = Static<typeof ConfigSchema>;
