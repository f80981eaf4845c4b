// A throw-away certificate authority and a server certificate for 127.0.0.1 and localhost,
// made with the openssl CLI (P-256 keys, valid two days), for TLS in front of Berth in tests.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mustRun } from './run.js';

export interface TestCa {
  /** PEM files. */
  caCert: string;
  serverCert: string;
  serverKey: string;
}

export async function makeTestCa(dir: string): Promise<TestCa> {
  const f = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await mustRun('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2',
    '-subj', '/CN=Berth e2e test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await mustRun('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(f('server.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '',
  ].join('\n'));
  await mustRun('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
    '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('server.ext')]);
  return { caCert: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key') };
}
