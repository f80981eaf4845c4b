// The connection flags copy, save, load and sync share, skopeo-style: one set for both ends,
// overridable per end with --src-* and --dest-*.
import type { Command } from 'commander';
import { parseCreds } from '../client/index.js';
import type { SideOptions } from '../transport/open.js';

export interface TransferFlags {
  creds?: string; srcCreds?: string; destCreds?: string;
  plainHttp?: boolean; srcPlainHttp?: boolean; destPlainHttp?: boolean;
  insecure?: boolean; srcInsecure?: boolean; destInsecure?: boolean;
  ca?: string; srcCa?: string; destCa?: string;
  cert?: string; key?: string;
  retries?: string; chunkSize?: string;
}

export function addTransferOptions(cmd: Command): Command {
  return cmd
    .option('--creds <user:pass>', 'credentials for both registries')
    .option('--src-creds <user:pass>', 'credentials for the source registry')
    .option('--dest-creds <user:pass>', 'credentials for the destination registry')
    .option('--plain-http', 'speak HTTP, not HTTPS, to both registries (default: HTTPS; loopback registries without TLS are detected)')
    .option('--src-plain-http', 'speak HTTP to the source registry')
    .option('--dest-plain-http', 'speak HTTP to the destination registry')
    .option('--insecure', 'HTTPS without certificate verification, both ends')
    .option('--src-insecure', 'HTTPS without certificate verification, source')
    .option('--dest-insecure', 'HTTPS without certificate verification, destination')
    .option('--ca <file>', 'PEM CA bundle to trust, both ends')
    .option('--src-ca <file>', 'PEM CA bundle to trust for the source')
    .option('--dest-ca <file>', 'PEM CA bundle to trust for the destination')
    .option('--cert <file>', 'client certificate (mutual TLS)')
    .option('--key <file>', 'client key (mutual TLS)')
    .option('--retries <n>', 'retries per request and per blob on 5xx, 429 and connection errors', '3')
    .option('--chunk-size <bytes>', 'push blobs in PATCH chunks of this size (default: one PUT)');
}

export function sideOptions(f: TransferFlags, side: 'src' | 'dest'): SideOptions {
  const pick = <T>(own: T | undefined, both: T | undefined) => own ?? both;
  const creds = pick(side === 'src' ? f.srcCreds : f.destCreds, f.creds);
  return {
    creds: creds ? parseCreds(creds) : undefined,
    plainHttp: pick(side === 'src' ? f.srcPlainHttp : f.destPlainHttp, f.plainHttp),
    insecure: pick(side === 'src' ? f.srcInsecure : f.destInsecure, f.insecure),
    caFile: pick(side === 'src' ? f.srcCa : f.destCa, f.ca),
    certFile: f.cert,
    keyFile: f.key,
    retries: Number(f.retries ?? 3),
    chunkSize: f.chunkSize ? Number(f.chunkSize) : undefined,
  };
}
