// Opens either end of a copy from a transport reference and the per-side connection options
// (credentials, plain HTTP or TLS settings) the CLI collected.
import { readFile } from 'node:fs/promises';
import {
  RegistryClient, apiHost, dockerConfigCredentials, isLoopback, speaksOnlyHttp,
  type Credentials, type CredentialLookup, type TlsOptions,
} from '../client/index.js';
import { RegistrySource, RegistryDestination } from './registry.js';
import { OciLayoutDestination, OciLayoutSource } from './oci-layout.js';
import { OciArchiveDestination, OciArchiveSource } from './oci-archive.js';
import { DockerArchiveDestination, DockerArchiveSource } from './docker-archive.js';
import type { TransportReference } from './reference.js';
import type { ImageDestination, ImageSource, RegistryOrigin } from './types.js';

export interface SideOptions {
  creds?: Credentials | undefined;
  /** Docker's config.json to look credentials up in (default: $DOCKER_CONFIG or ~/.docker). */
  dockerConfig?: string | undefined;
  /** true: HTTP; false: HTTPS; undefined: HTTPS, or HTTP for a loopback registry without TLS. */
  plainHttp?: boolean | undefined;
  insecure?: boolean | undefined;
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  retries?: number | undefined;
  chunkSize?: number | undefined;
}

export async function registryClient(host: string, side: SideOptions): Promise<RegistryClient> {
  const tls: TlsOptions = {
    ...(side.caFile ? { ca: await readFile(side.caFile) } : {}),
    ...(side.certFile ? { cert: await readFile(side.certFile) } : {}),
    ...(side.keyFile ? { key: await readFile(side.keyFile) } : {}),
    ...(side.insecure ? { insecure: true } : {}),
  };
  const api = apiHost(host);
  const plainHttp = side.plainHttp ?? (isLoopback(api) && !side.caFile ? await speaksOnlyHttp(api) : false);
  const fromConfig = dockerConfigCredentials(side.dockerConfig);
  const creds = side.creds;
  const lookup: CredentialLookup = creds ? async () => creds : async () => fromConfig(host);
  return new RegistryClient({ host: api, plainHttp, tls, credentials: lookup, ...(side.retries !== undefined ? { retries: side.retries } : {}) });
}

export async function openSource(ref: TransportReference, side: SideOptions): Promise<{ source: ImageSource; origin?: RegistryOrigin }> {
  switch (ref.kind) {
    case 'docker': {
      const client = await registryClient(ref.image.host, side);
      return { source: new RegistrySource(client, ref.image), origin: { host: client.host, repository: ref.image.repository } };
    }
    case 'oci':
      return { source: new OciLayoutSource(ref.path, ref.ref) };
    case 'oci-archive':
      return { source: await OciArchiveSource.open(ref.path, ref.ref) };
    case 'docker-archive':
      return { source: await DockerArchiveSource.open(ref.path, ref.ref) };
  }
}

/** The destination and the tag to store the root under (undefined: by digest). */
export async function openDestination(ref: TransportReference, side: SideOptions): Promise<{ destination: ImageDestination; tag: string | undefined }> {
  switch (ref.kind) {
    case 'docker': {
      const client = await registryClient(ref.image.host, side);
      return { destination: new RegistryDestination(client, ref.image, side.chunkSize), tag: ref.image.digest ? undefined : ref.image.tag };
    }
    case 'oci':
      return { destination: new OciLayoutDestination(ref.path, ref.ref), tag: ref.ref };
    case 'oci-archive':
      return { destination: new OciArchiveDestination(ref.path, ref.ref), tag: ref.ref };
    case 'docker-archive':
      return { destination: new DockerArchiveDestination(ref.path), tag: ref.ref };
  }
}
