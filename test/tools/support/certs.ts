// Test certificates made with openssl: a CA, a second CA nobody trusts, and server certificates
// for 127.0.0.1 that are good, expired (openssl ca with explicit dates), or for another name.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 60_000 }, (err, _out, stderr) => (err ? reject(new Error(`openssl ${args.join(' ')}: ${stderr}`)) : resolve()));
  });
}

export interface TestCerts {
  ca: string;
  otherCa: string;
  /** name -> { cert, key } for 'good', 'expired', 'wrong-host', 'unknown-ca' */
  server(name: 'good' | 'expired' | 'wrong-host' | 'unknown-ca'): { cert: string; key: string };
}

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-subj', `/CN=${name}`], dir);
  await mkdir(join(dir, `${name}-db`), { recursive: true });
  await writeFile(join(dir, `${name}-db/index.txt`), '');
  await writeFile(join(dir, `${name}-db/serial`), '1000\n');
  await writeFile(join(dir, `${name}.cnf`), [
    '[ ca ]', 'default_ca = this', '[ this ]', `dir = ${join(dir, `${name}-db`)}`, 'database = $dir/index.txt', 'serial = $dir/serial',
    'new_certs_dir = $dir', `certificate = ${join(dir, `${name}.pem`)}`, `private_key = ${join(dir, `${name}.key`)}`,
    'default_md = sha256', 'policy = any', 'copy_extensions = copy', 'unique_subject = no', '[ any ]', 'commonName = supplied', '',
  ].join('\n'));
}

async function makeServer(dir: string, ca: string, name: string, san: string, start: string, end: string): Promise<void> {
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`], dir);
  await openssl(['ca', '-batch', '-config', `${ca}.cnf`, '-in', `${name}.csr`, '-out', `${name}.pem`, '-notext', '-startdate', start, '-enddate', end], dir);
}

export async function makeTestCerts(dir: string): Promise<TestCerts> {
  await mkdir(dir, { recursive: true });
  await makeCa(dir, 'ca');
  await makeCa(dir, 'other-ca');
  const year = new Date().getUTCFullYear();
  const valid = [`${year - 1}0101000000Z`, `${year + 1}1231000000Z`] as const;
  await makeServer(dir, 'ca', 'good', 'IP:127.0.0.1,DNS:localhost', ...valid);
  await makeServer(dir, 'ca', 'expired', 'IP:127.0.0.1,DNS:localhost', `${year - 3}0101000000Z`, `${year - 2}0101000000Z`);
  await makeServer(dir, 'ca', 'wrong-host', 'DNS:other.example', ...valid);
  await makeServer(dir, 'other-ca', 'unknown-ca', 'IP:127.0.0.1,DNS:localhost', ...valid);
  return {
    ca: join(dir, 'ca.pem'),
    otherCa: join(dir, 'other-ca.pem'),
    server: (name) => ({ cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }),
  };
}
