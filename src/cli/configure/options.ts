// The options every `berth configure` target shares, and the CA/client-certificate files they copy.
import { readFile } from 'node:fs/promises';
import { isValidName } from '../../oci/reference.js';

export interface ConfigureOptions {
  /** HOST[:PORT] only: what TLS files, insecure lists and hosts.toml are keyed by. */
  registry: string;
  /**
   * A repository path on the registry that the mirrored registry's names go under: a Berth
   * upstream's project prefix (`dockerhub`). Only podman can send it; see each client.
   */
  prefix?: string | undefined;
  mirrorOf?: string | undefined;
  /** Plain HTTP, or HTTPS without verification (Docker's "insecure registry"). */
  insecure?: boolean | undefined;
  /** The registry speaks plain HTTP (implies insecure). */
  plainHttp?: boolean | undefined;
  ca?: string | undefined;
  clientCert?: string | undefined;
  clientKey?: string | undefined;
  root: string;
  maxConcurrentDownloads?: number | undefined;
}

export interface TrustFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export async function trustFiles(o: ConfigureOptions): Promise<TrustFiles> {
  if (o.insecure && o.ca) throw new Error('--insecure and --ca exclude each other: --ca trusts a certificate, --insecure trusts none');
  if (!!o.clientCert !== !!o.clientKey) throw new Error('--client-cert and --client-key go together');
  return {
    ...(o.ca ? { ca: await readFile(o.ca) } : {}),
    ...(o.clientCert ? { cert: await readFile(o.clientCert) } : {}),
    ...(o.clientKey ? { key: await readFile(o.clientKey) } : {}),
  };
}

export function scheme(o: ConfigureOptions): 'http' | 'https' {
  return o.plainHttp ? 'http' : 'https';
}

export function validateRegistry(host: string): void {
  if (!/^[a-zA-Z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(host)) throw new Error(`--registry must be HOST[:PORT][/PREFIX], got "${host}"`);
}

/** Splits `--registry HOST[:PORT][/PREFIX]`; the prefix is a repository path (a Berth upstream's name). */
export function parseRegistry(value: string): { host: string; prefix?: string } {
  const slash = value.indexOf('/');
  const host = slash < 0 ? value : value.slice(0, slash);
  validateRegistry(host);
  if (slash < 0) return { host };
  const prefix = value.slice(slash + 1).replace(/\/+$/, '');
  if (prefix === '' || !isValidName(prefix)) {
    throw new Error(`--registry ${value}: "${prefix}" after the host is not a repository path (lowercase components like dockerhub or team/mirror)`);
  }
  return { host, prefix };
}
