// The registry API checks, through THE OCI client: /v2/ and its challenge, login with the
// credentials found, the token fetch, and for an IMAGE a manifest HEAD and a blob range read.
import { RegistryClient, AuthError, RegistryResponseError, parseChallenges, type Credentials } from '../../client/index.js';
import { request, Agent, type Dispatcher } from 'undici';
import { describeProxy, proxyAgent } from '../../client/proxy-env.js';
import { fail, ok, skip, warn, type Finding } from './finding.js';
import type { Target } from './network.js';

function client(t: Target, creds: Credentials | undefined): RegistryClient {
  return new RegistryClient({
    host: t.host, plainHttp: t.plainHttp, retries: 0, connectTimeoutMs: t.timeoutMs,
    tls: { ...(t.ca ? { ca: t.ca } : {}), ...(t.insecure ? { insecure: true } : {}) },
    ...(creds ? { credentials: async () => creds } : {}),
  });
}

/**
 * GET /v2/ anonymously: is this a registry, and how does it want to be authenticated? `proxy`:
 * the forward proxy clients of this machine reach it through (the environment's).
 */
export async function checkV2(t: Target, proxy?: string): Promise<{ findings: Finding[]; challenge: string | undefined; reachable: boolean }> {
  const scheme = t.plainHttp ? 'http' : 'https';
  const agent: Dispatcher = proxy
    ? proxyAgent(proxy, { requestTls: { rejectUnauthorized: false }, connectTimeout: t.timeoutMs })
    : new Agent({ connect: { rejectUnauthorized: false, timeout: t.timeoutMs } });
  try {
    const res = await request(`${scheme}://${t.host}/v2/`, { dispatcher: agent, signal: AbortSignal.timeout(t.timeoutMs) });
    const body = await res.body.text();
    const challenge = ([] as string[]).concat(res.headers['www-authenticate'] ?? [])[0];
    if (res.statusCode === 400 && /HTTPS server|http request to an https/i.test(body)) {
      return { findings: [httpsAsHttp(t)], challenge: undefined, reachable: false };
    }
    if (res.statusCode === 200) {
      return { findings: [ok('v2', `${scheme}://${t.host}/v2/ answers 200: a registry that allows anonymous access`)], challenge: undefined, reachable: true };
    }
    if (res.statusCode === 401) {
      const parsed = parseChallenges(challenge);
      const c = parsed[0];
      if (!c) return { findings: [fail('v2.challenge', `/v2/ answers 401 without a WWW-Authenticate challenge`, 'clients cannot know how to log in', ['configure the registry (or the proxy before it) to send WWW-Authenticate'])], challenge, reachable: true };
      return { findings: [ok('v2', `${scheme}://${t.host}/v2/ asks for ${c.scheme === 'bearer' ? `Bearer tokens from ${c.params.realm ?? '(no realm!)'}` : 'Basic credentials'}`)], challenge, reachable: true };
    }
    return { findings: [fail('v2.not-registry', `${scheme}://${t.host}/v2/ answers ${res.statusCode}: not a registry API at this address`, 'every client starts at /v2/; a web server or a path prefix in between hides the registry', ['point clients at the registry\'s own host:port', 'or route /v2/ to the registry in the reverse proxy'])], challenge: undefined, reachable: false };
  } catch (err) {
    const text = `${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}${proxy ? ` (through proxy ${describeProxy(proxy)})` : ''}`;
    if (t.plainHttp && /ECONNRESET|UND_ERR_SOCKET|other side closed/i.test(text)) return { findings: [httpsAsHttp(t)], challenge: undefined, reachable: false };
    return { findings: [fail('v2.error', `GET ${scheme}://${t.host}/v2/ failed: ${text.trim()}`, 'clients fail the same way', ['see the findings above'])], challenge: undefined, reachable: false };
  } finally {
    await agent.close();
  }
}

function httpsAsHttp(t: Target): Finding {
  return fail('http.https-server', `${t.host} speaks HTTPS, but was addressed as plain HTTP`,
    'the server answers "Client sent an HTTP request to an HTTPS server" or drops the connection',
    [`drop --plain-http / insecure-registries for ${t.host}`, `containerd hosts.toml: server = "https://${t.host}"`, 'podman registries.conf: insecure = false']);
}

export function httpAsHttps(t: Target): Finding {
  return fail('tls.http-server', `${t.host} speaks plain HTTP, not HTTPS`,
    'clients default to HTTPS and report "http: server gave HTTP response to HTTPS client"',
    [
      `berth configure docker --registry ${t.host} --insecure      (insecure-registries in daemon.json)`,
      `berth configure containerd --registry ${t.host} --insecure  (hosts.toml: server = "http://${t.host}")`,
      `berth configure podman --registry ${t.host} --insecure      (registries.conf: insecure = true)`,
      'skopeo: --tls-verify=false; berth copy: --plain-http; better: put TLS in front of the registry',
    ]);
}

export async function checkLogin(t: Target, creds: Credentials | undefined, challenge: string | undefined): Promise<Finding[]> {
  if (!challenge) return [];
  if (!creds) return [warn('login.none', 'no credentials given or found in Docker\'s config.json for this registry', 'the registry requires authentication; pulls will fail with 401', [`berth login ${t.host}   (or docker login ${t.host}), or pass --creds USER:PASSWORD`])];
  const c = client(t, creds);
  try {
    const res = await c.ping();
    if (res.status === 200) {
      const bearer = c.endpoint.auth.scheme === 'bearer';
      return [ok('login', `login as ${creds.username} works${bearer ? ` (token fetched from ${parseChallenges(challenge)[0]?.params.realm})` : ' (Basic)'}`)];
    }
    return [fail('login.refused', `the registry refused the credentials of ${creds.username}`, 'wrong username or password, or the account is disabled; clients say "401 Unauthorized"', [`berth login ${t.host} -u ${creds.username}   (re-enter the password)`, 'check the account on the registry (htpasswd file, robot account, expiry)'])];
  } catch (err) {
    if (err instanceof AuthError) return [fail('login.token', `token fetch failed: ${err.message}`, 'the token server refused the credentials or is unreachable', [`berth login ${t.host} -u ${creds.username}`, 'check that the realm URL in the challenge is reachable from clients'])];
    return [fail('login.error', `login check failed: ${(err as Error).message}`, 'clients will fail the same way', [])];
  } finally {
    await c.close();
  }
}

export async function checkImage(t: Target, creds: Credentials | undefined, repository: string, reference: string): Promise<Finding[]> {
  const c = client(t, creds);
  try {
    const head = await c.headManifest(repository, reference);
    if (!head) return [fail('image.missing', `${repository}:${reference} is not in the registry (404)`, 'a pull of it fails with "not found"', [`berth copy SOURCE docker://${t.host}/${repository}:${reference}`, `check the name: berth copy lists tags with skopeo list-tags docker://${t.host}/${repository}`])];
    const out: Finding[] = [ok('image.manifest', `manifest HEAD ${repository}:${reference}: ${head.mediaType} ${head.digest ?? '(no Docker-Content-Digest header!)'}`)];
    const m = await c.getManifest(repository, head.digest ?? reference);
    const doc = JSON.parse(m.bytes.toString('utf8')) as { layers?: Array<{ digest: string }>; manifests?: Array<{ digest: string }> };
    let layer = doc.layers?.[0]?.digest;
    if (!layer && doc.manifests?.[0]) {
      const child = await c.getManifest(repository, doc.manifests[0].digest);
      layer = (JSON.parse(child.bytes.toString('utf8')) as { layers?: Array<{ digest: string }> }).layers?.[0]?.digest;
    }
    if (!layer) return [...out, skip('image.blob', 'the image has no layer to read')];
    const blob = await c.getBlob(repository, layer, { range: { start: 0, end: 1023 } });
    let got = 0;
    for await (const chunk of blob.stream) got += (chunk as Buffer).length;
    out.push(blob.status === 206 ? ok('image.blob', `blob range read of ${layer.slice(0, 19)}…: 206, ${got} bytes`)
      : warn('image.blob-range', `blob ${layer.slice(0, 19)}… was served whole (200) for a Range request`, 'clients cannot resume interrupted layer downloads', ['enable Range support on the registry or the proxy/CDN in front of it']));
    return out;
  } catch (err) {
    if (err instanceof RegistryResponseError && (err.status === 401 || err.status === 403)) {
      return [fail('image.denied', `pulling ${repository} is not allowed for ${creds ? creds.username : 'anonymous users'} (${err.status})`, 'the account has no pull permission on this repository', ['grant pull on the repository to the account, or use credentials that have it'])];
    }
    return [fail('image.error', `reading ${repository}:${reference} failed: ${(err as Error).message}`, 'a pull fails the same way', [])];
  } finally {
    await c.close();
  }
}
