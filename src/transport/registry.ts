// `docker://host/repo[:tag|@digest]`: a registry, through THE OCI client.
import type { Readable } from 'node:stream';
import { RegistryClient, manifestReference, type ImageReference } from '../client/index.js';
import type { Descriptor, ImageDestination, ImageSource, ManifestData } from './types.js';

export class RegistrySource implements ImageSource {
  readonly description: string;
  readonly client: RegistryClient;
  readonly ref: ImageReference;

  constructor(client: RegistryClient, ref: ImageReference) {
    this.client = client;
    this.ref = ref;
    this.description = `docker://${client.host}/${ref.repository}:${manifestReference(ref)}`;
  }

  async getManifest(digest?: string): Promise<ManifestData> {
    return this.client.getManifest(this.ref.repository, digest ?? manifestReference(this.ref));
  }

  async getBlob(desc: Descriptor): Promise<Readable> {
    return (await this.client.getBlob(this.ref.repository, desc.digest)).stream;
  }

  referrers(digest: string): Promise<Descriptor[]> {
    return this.client.referrers(this.ref.repository, digest);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export class RegistryDestination implements ImageDestination {
  readonly description: string;
  readonly acceptsIndex = true;
  readonly client: RegistryClient;
  readonly ref: ImageReference;
  readonly chunkSize: number | undefined;

  constructor(client: RegistryClient, ref: ImageReference, chunkSize?: number) {
    this.client = client;
    this.ref = ref;
    this.chunkSize = chunkSize;
    this.description = `docker://${client.host}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}`;
  }

  async tryMount(desc: Descriptor, sourceHost: string, fromRepo: string): Promise<boolean> {
    if (sourceHost !== this.client.host || fromRepo === this.ref.repository) return false;
    return this.client.mountBlob(this.ref.repository, desc.digest, fromRepo);
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return (await this.client.headBlob(this.ref.repository, desc.digest)) !== undefined;
  }

  putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void> {
    return this.client.pushBlob(this.ref.repository, desc, open, this.chunkSize ? { chunkSize: this.chunkSize } : {});
  }

  async hasManifest(digest: string): Promise<boolean> {
    return (await this.client.headManifest(this.ref.repository, digest)) !== undefined;
  }

  async putManifest(m: ManifestData, tag: string | undefined): Promise<void> {
    await this.client.putManifest(this.ref.repository, tag ?? m.digest, m.bytes, m.mediaType);
  }

  async commit(): Promise<void> {}

  close(): Promise<void> {
    return this.client.close();
  }
}
