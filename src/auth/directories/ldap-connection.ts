// Connections to the configured LDAP server: ldap:// (upgraded with StartTLS when configured) or
// ldaps://, the server's certificate checked against `ca` (and the system's) unless `verify` is
// off, and every connection and operation bounded by `timeout`.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import type { LdapConfig } from '../../config/sections/directories.js';

export class LdapConnector {
  readonly #tls: ConnectionOptions;

  constructor(private readonly config: LdapConfig) {
    let ca: string | undefined;
    if (config.ca !== undefined) {
      try {
        ca = readFileSync(config.ca, 'utf8');
      } catch (err) {
        throw new Error(`auth.ldap.ca: cannot read ${config.ca}: ${(err as Error).message}`);
      }
    }
    this.#tls = { rejectUnauthorized: config.verify, ...(ca !== undefined ? { ca } : {}) };
  }

  /** A new connection, TLS established when configured; nobody is bound yet. */
  async connect(): Promise<Client> {
    // ldapts speaks TLS from the start whenever tlsOptions are given: only for ldaps://.
    const ldaps = new URL(this.config.url).protocol === 'ldaps:';
    const client = new Client({
      url: this.config.url, timeout: this.config.timeout, connectTimeout: this.config.timeout, strictDN: false, ...(ldaps ? { tlsOptions: this.#tls } : {}),
    });
    if (this.config.starttls) {
      try {
        await client.startTLS(this.#tls);
      } catch (err) {
        await client.unbind().catch(() => undefined);
        throw err;
      }
    }
    return client;
  }
}

/** Reads the service account's password from the configuration or its file. */
export function bindPassword(config: LdapConfig): string {
  if (config.bindpasswordfile === undefined) return config.bindpassword ?? '';
  try {
    return readFileSync(config.bindpasswordfile, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new Error(`auth.ldap.bindpasswordfile: cannot read ${config.bindpasswordfile}: ${(err as Error).message}`);
  }
}
