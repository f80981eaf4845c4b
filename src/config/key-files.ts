// The key and certificate files the configuration names, read and checked before anything uses
// them, so that a wrong file stops start (and `berth config verify`) with the config key, the
// path and what is wrong, instead of OpenSSL's decoder message naming neither.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from './load.js';
import type { Config } from './schema.js';

/** Reads a PEM private key; a ConfigError names `configKey`, the file and the reason otherwise. */
export function readPrivateKeyFile(configKey: string, path: string): KeyObject {
  const data = readOrFail(configKey, path);
  try {
    return createPrivateKey(data);
  } catch (err) {
    throw new ConfigError([`${configKey}: ${path} is not a private key (PEM): ${keyReason(data, err)}`]);
  }
}

/** Reads a PEM (or DER) certificate, the first of the file; a ConfigError otherwise. */
export function readCertificateFile(configKey: string, path: string): X509Certificate {
  const data = readOrFail(configKey, path);
  try {
    return new X509Certificate(data);
  } catch (err) {
    throw new ConfigError([`${configKey}: ${path} is not a certificate (PEM): ${certificateReason(data, err)}`]);
  }
}

/**
 * Every key file the configuration names: `http.tls` certificate, key (and that they belong
 * together) and client CAs; the token signing key when it exists (else it is created at start).
 * With `skipUnreadable` (config verify, perhaps run away from the server) a file that cannot be
 * read is returned as a warning instead of failing.
 */
export function checkKeyFiles(config: Config, options: { skipUnreadable?: boolean } = {}): string[] {
  const problems: string[] = [];
  const skipped: string[] = [];
  const collect = <T>(check: () => T): T | undefined => {
    try {
      return check();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (options.skipUnreadable && err instanceof UnreadableFile) skipped.push(`${err.problems[0]} (not checked)`);
      else problems.push(...err.problems);
      return undefined;
    }
  };
  const tls = config.http.tls;
  if (tls) {
    const cert = collect(() => readCertificateFile('http.tls.certificate', tls.certificate));
    const key = collect(() => readPrivateKeyFile('http.tls.key', tls.key));
    if (cert && key && !cert.checkPrivateKey(key)) {
      problems.push(`http.tls.key: ${tls.key} does not match the certificate in http.tls.certificate (${tls.certificate})`);
    }
    for (const ca of tls.clientcas) collect(() => readCertificateFile('http.tls.clientcas', ca));
  }
  const signingKey = config.auth?.token?.signingkey;
  if (signingKey && existsSync(signingKey)) collect(() => readPrivateKeyFile('auth.token.signingkey', signingKey));
  if (problems.length > 0) throw new ConfigError(problems);
  return skipped;
}

/** A file that could not be read at all: `config verify` may run where the files are not. */
class UnreadableFile extends ConfigError {}

function readOrFail(configKey: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UnreadableFile([`${configKey}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
}

function keyReason(data: Buffer, err: unknown): string {
  const text = data.toString('latin1');
  if (text.trim() === '') return 'the file is empty';
  if (/-----BEGIN (ENCRYPTED PRIVATE KEY|[A-Z ]*PRIVATE KEY-----[\s\S]*Proc-Type: 4,ENCRYPTED)/.test(text)) {
    return 'the key is encrypted with a passphrase, which is not supported';
  }
  const blocks = pemLabels(text);
  if (blocks.length === 0) return 'no PEM block ("-----BEGIN PRIVATE KEY-----") found';
  if (!blocks.some((b) => b.endsWith('PRIVATE KEY'))) return `it holds ${blocks.map(article).join(', ')}, not a private key`;
  return `the key could not be decoded (${openSslReason(err)})`;
}

function certificateReason(data: Buffer, err: unknown): string {
  const text = data.toString('latin1');
  if (text.trim() === '') return 'the file is empty';
  const blocks = pemLabels(text);
  if (blocks.length === 0) return 'no PEM block ("-----BEGIN CERTIFICATE-----") found';
  if (!blocks.includes('CERTIFICATE')) return `it holds ${blocks.map(article).join(', ')}, not a certificate`;
  return `the certificate could not be decoded (${openSslReason(err)})`;
}

function pemLabels(text: string): string[] {
  return [...new Set([...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]!))];
}

function article(label: string): string {
  return `a ${label.toLowerCase()}`.replace(/^a ([aeiou])/, 'an $1');
}

/** OpenSSL's reason without its error-queue prefix (`error:1E08010C:DECODER routines::`). */
function openSslReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^error:[0-9A-F]+:[^:]*::?/i, '').trim() || message;
}
