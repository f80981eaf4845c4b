// A throwaway PKI made with the real openssl: a CA, a server certificate for 127.0.0.1 and
// localhost, and a client CA with one client certificate (for mutual TLS).
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCaCert: string;
  clientCert: string;
  clientKey: string;
  /** Issues another server certificate (for reload tests); returns its paths. */
  issueServer(name: string, cn: string): { cert: string; key: string };
}

export function makePki(dir: string): TestPki {
  const run = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
  const ca = (name: string, cn: string) => run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`);
  const leaf = (name: string, cn: string, issuer: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  };
  const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
  ca('ca', 'berth test CA');
  ca('client-ca', 'berth test client CA');
  const server = leaf('server', 'berth-server-1', 'ca', serverExt);
  const client = leaf('client', 'berth-client', 'client-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    dir, caCert: join(dir, 'ca.crt'), serverCert: server.cert, serverKey: server.key,
    clientCaCert: join(dir, 'client-ca.crt'), clientCert: client.cert, clientKey: client.key,
    issueServer: (name, cn) => leaf(name, cn, 'ca', serverExt),
  };
}

export interface Handshake {
  ok: boolean;
  /** The cipher OpenSSL reports, '(NONE)' when the handshake failed. */
  cipher: string;
  output: string;
}

/** A handshake by the real `openssl s_client` (`args`: -tls1_2, -cipher ..., -ciphersuites ...). */
export function sClient(port: number, args: string[]): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    child.on('error', reject);
    // No input: s_client ends the connection right after the handshake.
    child.stdin.end();
    child.on('close', (code) => {
      const cipher = /Cipher is (\S+)/.exec(output)?.[1] ?? '(NONE)';
      resolve({ ok: code === 0 && cipher !== '(NONE)', cipher, output });
    });
  });
}
