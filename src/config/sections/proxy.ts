// `proxy`: the pull-through cache (src/proxy). Distribution's keys (remoteurl, username,
// password, ttl) make the whole registry a mirror of one upstream; Berth's `upstreams` mirror
// several registries at once, each under its own project prefix, next to pushable projects.
import { Type } from '@sinclair/typebox';
import { bytes, millis, notSecret, secret, strict, unimplemented } from './common.js';


const UpstreamTls = Type.Object({
  /** PEM file of extra CA certificates the upstream's certificate may chain to. */
  ca: Type.Optional(Type.String({ minLength: 1 })),
  insecureskipverify: Type.Boolean({ default: false }),
  /** Client certificate and key (PEM files) for an upstream that wants mutual TLS. */
  certificate: Type.Optional(Type.String({ minLength: 1 })),
  key: Type.Optional(Type.String({ minLength: 1, ...secret('path') })),
}, { ...strict, default: {} });

/**
 * Hosts other than remoteurl's origin the upstream may send Berth to, trusted whatever they
 * resolve to: `host` (any port), `host:port` or `*.domain`. Manifests, tag lists and referrers
 * are fetched from remoteurl's origin or these only; blobs (and a token realm) also from any
 * host whose addresses are all public (registries redirect blobs to CDNs and object stores).
 */
const AllowedHosts = Type.Array(Type.String({ pattern: '^(\\*\\.)?([A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?$' }), { default: [] });

/**
 * Forward proxy to the upstream: `http://[user:password@]host:port`; "" or "none" for direct
 * connections. Unset: HTTPS_PROXY / HTTP_PROXY / NO_PROXY of Berth's environment.
 */
const ForwardProxy = Type.Optional(Type.String({ pattern: '^(|none|https?://[^\\s/]+/?)$', ...secret('url') }));

/**
 * The name of a `trust.policies` entry whose keys, certificates, Sigstore root or Notation trust
 * store a manifest fetched from this upstream must verify against (its signatures read from the
 * upstream) before it is cached and served; the policy's mode decides what an unsigned one gets.
 */
const Verify = Type.Optional(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$' }));

const Upstream = Type.Object({
  /** Project prefix: `<name>/library/nginx` is `library/nginx` upstream. */
  name: Type.String({ pattern: '^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$', maxLength: 200 }),
  remoteurl: Type.String({ pattern: '^https?://', ...secret('url') }),
  /** Registry hosts this upstream answers for when a client sends `?ns=` (containerd mirrors). */
  namespaces: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  /**
   * Repositories under no other prefix that do not exist locally come from this upstream
   * (dockerd's registry-mirrors sends neither ns nor prefix). At most one upstream.
   */
  root: Type.Boolean({ default: false }),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String(secret())),
  /** Manifests pulled by tag are served from the cache this long, then revalidated (HEAD). */
  ttl: millis('10m'),
  /** Bound on connecting, on waiting for response headers, and on a stalled body. */
  timeout: millis('30s'),
  tls: UpstreamTls,
  /** Cache limit for this upstream: least-recently-pulled content is evicted above it. */
  maxsize: bytes('0'),
  /** Evict content not pulled for this long ("0": never). */
  maxage: millis('0'),
  /** Consecutive upstream failures that open the circuit breaker. */
  breakerthreshold: Type.Integer({ default: 5, minimum: 1 }),
  /** How long an open breaker refuses before one probe request is let through. */
  breakercooldown: millis('30s'),
  allowedhosts: AllowedHosts,
  proxy: ForwardProxy,
  verify: Verify,
}, strict);

export const ProxySection = Type.Object({
  // Distribution's keys: the root upstream, named "default".
  remoteurl: Type.Optional(Type.String({ pattern: '^https?://', ...secret('url') })),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String(secret())),
  /** Distribution's cache lifetime: content not pulled for this long is evicted (tags are re-checked on every pull). */
  ttl: millis('168h'),
  // Berth's key for the remoteurl upstream: as proxy.upstreams[].allowedhosts.
  allowedhosts: AllowedHosts,
  // Berth's key for the remoteurl upstream: as proxy.upstreams[].proxy.
  proxy: ForwardProxy,
  // Berth's key for the remoteurl upstream: as proxy.upstreams[].verify.
  verify: Verify,
  exec: unimplemented('proxy.exec credential helpers are not implemented: give proxy.username and proxy.password'),
  // Berth's own.
  upstreams: Type.Array(Upstream, { default: [] }),
  eviction: Type.Object({
    /** How often the scheduler enforces maxsize/maxage ("0": never). */
    interval: millis('10m'),
    /**
     * Run the garbage collector (the `gc` settings, grace included) after a run that evicted
     * something, so the space comes back and maxsize bounds the disk, not only the bookkeeping.
     */
    collect: Type.Boolean({ default: true }),
  }, { ...strict, default: {} }),
}, { ...strict, default: {} });

interface ProxyShape {
  remoteurl?: string | undefined;
  upstreams: Array<{ name: string; root: boolean; namespaces: string[]; tls: { certificate?: string | undefined; key?: string | undefined } }>;
}

/** What the schema cannot say: unique names, one root, one owner per namespace. */
export function proxyConfigProblems(proxy: ProxyShape): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const namespaces = new Map<string, string>();
  for (const u of proxy.upstreams) {
    if (seen.has(u.name)) problems.push(`proxy.upstreams: the name "${u.name}" is used twice`);
    seen.add(u.name);
    for (const ns of u.namespaces) {
      const owner = namespaces.get(ns.toLowerCase());
      if (owner !== undefined) problems.push(`proxy.upstreams: namespace ${ns} is claimed by both ${owner} and ${u.name}`);
      namespaces.set(ns.toLowerCase(), u.name);
    }
    if ((u.tls.certificate === undefined) !== (u.tls.key === undefined)) {
      problems.push(`proxy.upstreams[${u.name}].tls: certificate and key go together`);
    }
  }
  const roots = proxy.upstreams.filter((u) => u.root).map((u) => u.name);
  if (roots.length > 1) problems.push(`proxy.upstreams: at most one upstream can be root (${roots.join(', ')} are)`);
  if (proxy.remoteurl !== undefined && proxy.upstreams.length > 0) {
    problems.push('proxy: remoteurl (the whole registry mirrors one upstream) and upstreams exclude each other');
  }
  return problems;
}
