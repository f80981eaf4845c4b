// The layers under HTTP: name resolution, a TCP connection, and the TLS handshake with the
// certificate checks (chain, expiry, hostname) each named with the fix for each client.
import { lookup } from 'node:dns/promises';
import { connect as tcpConnect, isIP } from 'node:net';
import { connect as tlsConnect, checkServerIdentity, type PeerCertificate } from 'node:tls';
import { fail, ok, warn, type Finding } from './finding.js';

export interface Target {
  host: string;
  hostname: string;
  port: number;
  plainHttp: boolean;
  ca?: Buffer | undefined;
  insecure?: boolean | undefined;
  timeoutMs: number;
}

export function target(registry: string, plainHttp: boolean, timeoutMs: number): Target {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(registry);
  if (!m) throw new Error(`REGISTRY must be HOST[:PORT], got "${registry}"`);
  const hostname = m[1]!.replace(/^\[|\]$/g, '');
  return { host: registry, hostname, port: m[2] ? Number(m[2]) : plainHttp ? 80 : 443, plainHttp, timeoutMs };
}

export async function checkDns(t: Target): Promise<Finding> {
  if (isIP(t.hostname)) return ok('dns', `${t.hostname} is an IP address, no DNS lookup needed`);
  try {
    const addrs = await lookup(t.hostname, { all: true });
    return ok('dns', `${t.hostname} resolves to ${addrs.map((a) => a.address).join(', ')}`);
  } catch (err) {
    return fail('dns.unresolved', `${t.hostname} does not resolve (${(err as NodeJS.ErrnoException).code})`,
      'no client can reach a registry whose name does not resolve; docker says "no such host"',
      [`check the spelling of ${t.hostname}`, `add it to DNS, or to /etc/hosts on every node: echo "IP ${t.hostname}" >> /etc/hosts`]);
  }
}

export function checkTcp(t: Target): Promise<Finding> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: t.hostname, port: t.port, timeout: t.timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(ok('tcp', `TCP connection to ${t.hostname}:${t.port} works`));
    });
    const failed = (code: string) => {
      socket.destroy();
      resolve(fail(`tcp.${code === 'ECONNREFUSED' ? 'refused' : 'unreachable'}`,
        code === 'ECONNREFUSED' ? `nothing is listening on ${t.hostname}:${t.port} (connection refused)` : `${t.hostname}:${t.port} cannot be reached (${code})`,
        code === 'ECONNREFUSED' ? 'the host answered, but no process accepts connections on that port; clients report "connection refused"' : 'packets get no answer: a firewall, a wrong address, or the host is down',
        code === 'ECONNREFUSED'
          ? [`start the registry, or check its listen address (berth: http.addr / REGISTRY_HTTP_ADDR) and port ${t.port}`, `ss -ltnp | grep :${t.port}   on the registry host`]
          : [`check firewalls and security groups for TCP ${t.port}`, `nc -vz ${t.hostname} ${t.port}`]));
    };
    socket.once('timeout', () => failed('ETIMEDOUT'));
    socket.once('error', (err: NodeJS.ErrnoException) => failed(err.code ?? 'error'));
  });
}

export interface TlsResult {
  findings: Finding[];
  /** The server answered the TLS handshake with something that is not TLS. */
  notTls: boolean;
}

const UNKNOWN_CA = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT']);

function caFixes(host: string): string[] {
  return [
    `berth configure containerd --registry ${host} --ca ca.pem   (hosts.toml: ca = "ca.crt" in /etc/containerd/certs.d/${host}/)`,
    `berth configure docker --registry ${host} --ca ca.pem       (/etc/docker/certs.d/${host}/ca.crt)`,
    `berth configure podman --registry ${host} --ca ca.pem       (/etc/containers/certs.d/${host}/ca.crt)`,
    'or trust it system-wide: cp ca.pem /usr/local/share/ca-certificates/registry.crt && update-ca-certificates, then restart dockerd/containerd',
  ];
}

export function checkTls(t: Target): Promise<TlsResult> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: t.hostname, port: t.port, rejectUnauthorized: false, timeout: t.timeoutMs,
      ...(isIP(t.hostname) ? {} : { servername: t.hostname }), ...(t.ca ? { ca: t.ca } : {}),
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(true);
      const authError = socket.authorizationError as unknown as string | Error | null;
      const code = authError ? (typeof authError === 'string' ? authError : (authError as NodeJS.ErrnoException).code ?? authError.message) : undefined;
      socket.destroy();
      resolve({ findings: certificateFindings(t, cert, code), notTls: false });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ findings: [fail('tls.timeout', `no TLS handshake from ${t.host} within ${t.timeoutMs} ms`, 'the port accepts connections but does not speak TLS back', ['check that the port is the registry\'s HTTPS port'])], notTls: true });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const notTls = /wrong version number|EPROTO|packet length too long|http request/i.test(`${err.code} ${err.message}`);
      resolve({ findings: notTls ? [] : [fail('tls.handshake', `TLS handshake with ${t.host} failed: ${err.message}`, 'clients cannot open an HTTPS connection', ['check the server\'s TLS configuration (certificate and key files, protocols)'])], notTls });
    });
  });
}

function certificateFindings(t: Target, cert: PeerCertificate, code: string | undefined): Finding[] {
  const out: Finding[] = [];
  const subject = cert.subject?.CN ?? '(no CN)';
  const sans = cert.subjectaltname ?? '(none)';
  const notAfter = new Date(cert.valid_to);
  const notBefore = new Date(cert.valid_from);
  const now = Date.now();
  if (code === 'CERT_HAS_EXPIRED' || notAfter.getTime() < now) {
    out.push(fail('tls.expired', `the certificate of ${t.host} expired on ${notAfter.toISOString()}`,
      'every client refuses an expired certificate ("x509: certificate has expired or is not yet valid")',
      ['renew it and restart the registry, e.g. openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -days 365 -out server.crt (keep the subjectAltName)', 'with Let\'s Encrypt: certbot renew']));
  } else if (code === 'CERT_NOT_YET_VALID' || notBefore.getTime() > now) {
    out.push(fail('tls.not-yet-valid', `the certificate of ${t.host} is valid only from ${notBefore.toISOString()}`, 'the clock of the server or of this machine is wrong, or the certificate was dated ahead', ['check both clocks (timedatectl), or reissue the certificate']));
  } else if (notAfter.getTime() - now < 14 * 86400_000) {
    out.push(warn('tls.expiring', `the certificate of ${t.host} expires on ${notAfter.toISOString()}`, 'clients will refuse it from then on', ['renew it before then']));
  }
  if (code && UNKNOWN_CA.has(code)) {
    out.push(fail('tls.unknown-ca', `the certificate of ${t.host} (CN ${subject}) is signed by an authority this machine does not trust (${code})`,
      'clients say "x509: certificate signed by unknown authority"; each client has its own place for extra CAs', caFixes(t.host)));
  }
  const identity = checkServerIdentity(t.hostname, cert);
  if (identity) {
    out.push(fail('tls.hostname', `the certificate of ${t.host} is not valid for ${t.hostname} (it names ${sans})`,
      `clients say "x509: certificate is valid for ${sans.replace(/DNS:|IP Address:/g, '')}, not ${t.hostname}"`,
      [`reach the registry by a name the certificate lists (${sans})`, `or reissue it with subjectAltName = ${isIP(t.hostname) ? 'IP' : 'DNS'}:${t.hostname}`]));
  }
  if (code && !UNKNOWN_CA.has(code) && code !== 'CERT_HAS_EXPIRED' && code !== 'CERT_NOT_YET_VALID' && !identity) {
    out.push(fail('tls.verify', `the certificate of ${t.host} does not verify: ${code}`, 'clients refuse certificates that do not verify', ['reissue the certificate from a trusted CA']));
  }
  if (out.every((f) => f.status !== 'fail')) out.unshift(ok('tls', `TLS certificate of ${t.host} verifies (CN ${subject}, ${sans}, valid until ${notAfter.toISOString().slice(0, 10)})`));
  return out;
}
