// `replication`: endpoints (other registries) and policies that push local repositories to one
// or pull its repositories here, on registry events or on a cron schedule. Jobs are kept in the
// metadata database (src/replication); credentials of endpoints added through the admin API are
// stored there encrypted with `key` (or the key in `keyfile`).
import { Type, type Static, type StaticDecode } from '@sinclair/typebox';
import { Cron } from 'croner';
import { millis, notSecret, secret, strict } from './common.js';
import { parseByteSize } from '../size.js';

export const ReplicationEndpointSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
  /** Any OCI registry: https://host[:port] (http:// for plain HTTP). */
  url: Type.String({ pattern: '^https?://[^/@]+/?$' }),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String({ ...secret() })),
  passwordfile: Type.Optional(Type.String({ minLength: 1, ...notSecret('the path of a file holding the password') })),
  /** HTTPS without certificate verification. */
  insecure: Type.Boolean({ default: false }),
  /** PEM file of the CAs the endpoint's certificate is checked against. */
  ca: Type.Optional(Type.String({ minLength: 1 })),
}, strict);

const Trigger = Type.Object({
  /** On every push (and delete, with `deletes`) that matches: push policies only. */
  event: Type.Boolean({ default: false }),
  /** A cron line (five fields, or six with seconds): a full run of the policy each time. */
  schedule: Type.Optional(Type.String({ minLength: 1 })),
}, { ...strict, default: {} });

export const ReplicationPolicySchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
  direction: Type.Union([Type.Literal('push'), Type.Literal('pull')]),
  endpoint: Type.String({ minLength: 1 }),
  /** Globs over repository names on the source side (`*` any run, `?` one character, `{a,b}`). */
  repositories: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  /** A regular expression tags must match; absent: every tag. */
  tags: Type.Optional(Type.String({ minLength: 1 })),
  /** Prefix put before each name on the destination side (`mirror/`). */
  destination: Type.String({ default: '' }),
  trigger: Trigger,
  /** Replicate tag and manifest deletions. */
  deletes: Type.Boolean({ default: false }),
  /** Signatures, SBOMs and attestations travel with their subject. */
  referrers: Type.Boolean({ default: true }),
  /** Images copied at once by one run (blobs of one image: as many again). */
  concurrency: Type.Integer({ default: 4, minimum: 1, maximum: 64 }),
  /** Cap on the bytes per second a run moves ("50MB/s", "10MiB/s"); absent: no cap. */
  bandwidth: Type.Optional(Type.Transform(Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?\\s*([KMGT]i?B|B)/s$' }))
    .Decode((text) => parseByteSize(text.slice(0, -2))).Encode((n) => `${n}B/s`)),
  enabled: Type.Boolean({ default: true }),
}, strict);

export const ReplicationSection = Type.Object({
  /** 32 bytes, base64: encrypts stored endpoint credentials (AES-256-GCM). */
  key: Type.Optional(Type.String({ minLength: 1, ...secret() })),
  /** A file holding the key (base64), instead of `key`. */
  keyfile: Type.Optional(Type.String({ minLength: 1, ...notSecret('the path of the key file') })),
  /** During a key rotation: the key credentials were sealed with before (`berth replication rekey`). */
  previouskey: Type.Optional(Type.String({ minLength: 1, ...secret() })),
  previouskeyfile: Type.Optional(Type.String({ minLength: 1, ...notSecret('the path of the previous key file') })),
  /** How long a replica holds a job it runs before another may take it over (renewed while it runs). */
  lease: millis('30s'),
  /** Jobs one replica runs at once. */
  workers: Type.Integer({ default: 4, minimum: 1, maximum: 64 }),
  /** Attempts before a job is parked for a manual retry. */
  maxattempts: Type.Integer({ default: 8, minimum: 1 }),
  /** First wait before a retry, doubled each attempt up to `maxbackoff`. */
  backoff: millis('2s'),
  maxbackoff: millis('5m'),
  /** How often an idle replica looks for jobs other replicas queued. */
  poll: millis('2s'),
  endpoints: Type.Array(ReplicationEndpointSchema, { default: [] }),
  policies: Type.Array(ReplicationPolicySchema, { default: [] }),
}, { ...strict, default: {} });

export type ReplicationEndpointConfig = Static<typeof ReplicationEndpointSchema>;
export type ReplicationPolicyConfig = Static<typeof ReplicationPolicySchema>;
type ReplicationShape = Static<typeof ReplicationSection>;
/** A policy as loaded: `bandwidth` in bytes per second. */
export type ReplicationPolicySettings = StaticDecode<typeof ReplicationPolicySchema>;
export type ReplicationSettings = StaticDecode<typeof ReplicationSection>;

/** Whether a repository glob is well formed: braces closed, no nesting, names' characters only. */
export function globProblem(glob: string): string | undefined {
  let open = false;
  for (const ch of glob) {
    if (ch === '{') {
      if (open) return 'nested "{"';
      open = true;
    } else if (ch === '}') {
      if (!open) return '"}" without "{"';
      open = false;
    } else if (!/[a-z0-9._\-/*?,]/.test(ch)) return `"${ch}" cannot appear in a repository name`;
  }
  return open ? 'unclosed "{"' : undefined;
}

/** One policy's problems, each naming its key (also used for policies sent to the admin API). */
export function policyProblems(p: ReplicationPolicyConfig, where: string, endpoints: Set<string>): string[] {
  const problems: string[] = [];
  if (!endpoints.has(p.endpoint)) problems.push(`${where}.endpoint: no endpoint named "${p.endpoint}"`);
  p.repositories.forEach((glob, i) => {
    const why = globProblem(glob);
    if (why) problems.push(`${where}.repositories[${i}]: "${glob}" is not a valid glob: ${why}`);
  });
  if (p.tags !== undefined) {
    try {
      new RegExp(p.tags);
    } catch (err) {
      problems.push(`${where}.tags: "${p.tags}" is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  if (p.trigger.schedule !== undefined) {
    try {
      new Cron(p.trigger.schedule, { paused: true });
    } catch (err) {
      problems.push(`${where}.trigger.schedule: "${p.trigger.schedule}" is not a valid cron line: ${(err as Error).message}`);
    }
  }
  if (p.trigger.event && p.direction === 'pull') problems.push(`${where}.trigger.event: events trigger push policies only (pull policies run on a schedule)`);
  if (!p.trigger.event && p.trigger.schedule === undefined) problems.push(`${where}.trigger: needs event: true or a schedule (or both)`);
  if (p.destination !== '' && (!/^[a-z0-9]/.test(p.destination) || /\/\/|[^a-z0-9._\-/]/.test(p.destination))) {
    problems.push(`${where}.destination: "${p.destination}" is not a repository name prefix`);
  }
  return problems;
}

export function replicationConfigProblems(r: ReplicationShape): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  r.endpoints.forEach((e, i) => {
    if (names.has(e.name)) problems.push(`replication.endpoints[${i}].name: "${e.name}" is used twice`);
    names.add(e.name);
    if (e.password !== undefined && e.passwordfile !== undefined) problems.push(`replication.endpoints[${i}]: password and passwordfile exclude each other`);
    const given = e.password !== undefined ? 'password' : e.passwordfile !== undefined ? 'passwordfile' : undefined;
    if (given && r.key === undefined && r.keyfile === undefined) {
      problems.push(`replication.endpoints[${i}].${given}: credentials are stored encrypted in the metadata database: set replication.key or replication.keyfile (openssl rand -base64 32)`);
    }
  });
  const policies = new Set<string>();
  r.policies.forEach((p, i) => {
    if (policies.has(p.name)) problems.push(`replication.policies[${i}].name: "${p.name}" is used twice`);
    policies.add(p.name);
    problems.push(...policyProblems(p, `replication.policies[${i}]`, names));
  });
  if (r.key !== undefined && r.keyfile !== undefined) problems.push('replication: key and keyfile exclude each other');
  if (r.key !== undefined && Buffer.from(r.key, 'base64').length !== 32) problems.push('replication.key: must be 32 bytes in base64 (openssl rand -base64 32)');
  if (r.previouskey !== undefined && r.previouskeyfile !== undefined) problems.push('replication: previouskey and previouskeyfile exclude each other');
  if (r.previouskey !== undefined && Buffer.from(r.previouskey, 'base64').length !== 32) problems.push('replication.previouskey: must be 32 bytes in base64');
  if ((r.previouskey !== undefined || r.previouskeyfile !== undefined) && r.key === undefined && r.keyfile === undefined) problems.push('replication.previouskey: a rotation needs the new key in replication.key or replication.keyfile');
  return problems;
}
