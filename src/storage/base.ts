// The one storage wrapper base. Checking, timing, redirects and the concurrency cap each wrap a
// driver; before this base each forwarded its own subset of the optional capabilities, so
// whether the GC lock's exclusive create stayed atomic depended on the order of the wrappers.
// Here every method of the contract AND every optional capability goes through one hook,
// `around(call, op)`, and a capability is offered exactly when the wrapped driver has it: the
// type guards of driver.ts then find it through any stack of wrappers, in any order.
import type { Readable } from 'node:stream';
import {
  canCreateExclusive, canPresign, canRedirect, hasBucketKeys, hasChunkMinimum, hasPendingWrites,
  type BlobRedirects, type BucketKeys, type ChunkMinimum, type ExclusiveCreate, type FileInfo, type FileWriter,
  type IoOptions, type PendingWrites, type Presigner, type ReadOptions, type StorageDriver, type WriterOptions,
} from './driver.js';

/** One call as wrappers see it: Distribution's action name, the paths it touches, its signal. */
export interface DriverCall {
  action: string;
  paths: readonly string[];
  signal?: AbortSignal | undefined;
  /** Reader calls only: the byte range asked for. */
  range?: { offset?: number | undefined; length?: number | undefined };
}

type Capabilities = PendingWrites & ExclusiveCreate & Presigner & BlobRedirects & ChunkMinimum & BucketKeys;

export abstract class DriverWrapper implements StorageDriver {
  protected readonly inner: StorageDriver;

  constructor(inner: StorageDriver) {
    this.inner = inner;
    forwardCapabilities(this, inner);
  }

  get name(): string {
    return this.inner.name;
  }

  /**
   * What this wrapper does around every call (validation, timing, a concurrency slot). May throw
   * synchronously: `call()` turns that into a rejection, like any other driver failure.
   */
  protected abstract around<T>(call: DriverCall, op: () => Promise<T>): Promise<T>;

  /** Runs `op` through `around`; the one path every forwarded method and capability takes. */
  protected async call<T>(call: DriverCall, op: () => Promise<T>): Promise<T> {
    call.signal?.throwIfAborted();
    return this.around(call, op);
  }

  getContent(path: string, options?: IoOptions): Promise<Buffer> {
    return this.call({ action: 'GetContent', paths: [path], signal: options?.signal }, () => this.inner.getContent(path, options));
  }

  putContent(path: string, content: Uint8Array | string, options?: IoOptions): Promise<void> {
    return this.call({ action: 'PutContent', paths: [path], signal: options?.signal }, () => this.inner.putContent(path, content, options));
  }

  reader(path: string, options?: ReadOptions): Promise<Readable> {
    const range = { offset: options?.offset, length: options?.length };
    return this.call({ action: 'Reader', paths: [path], signal: options?.signal, range }, () => this.inner.reader(path, options));
  }

  writer(path: string, options?: WriterOptions): Promise<FileWriter> {
    return this.call({ action: 'Writer', paths: [path], signal: options?.signal }, () => this.inner.writer(path, options));
  }

  stat(path: string, options?: IoOptions): Promise<FileInfo> {
    return this.call({ action: 'Stat', paths: [path], signal: options?.signal }, () => this.inner.stat(path, options));
  }

  list(path: string, options?: IoOptions): Promise<string[]> {
    return this.call({ action: 'List', paths: [path], signal: options?.signal }, () => this.inner.list(path, options));
  }

  move(source: string, dest: string, options?: IoOptions): Promise<void> {
    return this.call({ action: 'Move', paths: [source, dest], signal: options?.signal }, () => this.inner.move(source, dest, options));
  }

  delete(path: string, options?: IoOptions): Promise<void> {
    return this.call({ action: 'Delete', paths: [path], signal: options?.signal }, () => this.inner.delete(path, options));
  }
}

/** A wrapper that only forwards: for subclasses that add a capability and change nothing else. */
export class ForwardingDriver extends DriverWrapper {
  protected around<T>(_call: DriverCall, op: () => Promise<T>): Promise<T> {
    return op();
  }
}

/**
 * Offers on `wrapper` each capability `inner` has, through the wrapper's `call`. A capability the
 * wrapper's own class defines (the redirect middleware's redirectURL) is its own and stays.
 */
function forwardCapabilities(wrapper: DriverWrapper, inner: StorageDriver): void {
  const self = wrapper as unknown as Partial<Capabilities>;
  // `call` is protected; capabilities are installed from here, on the wrapper's behalf.
  const run = <T>(call: DriverCall, op: () => Promise<T>): Promise<T> =>
    (wrapper as unknown as { call: DriverWrapper['call'] }).call(call, op);
  const own = (key: keyof Capabilities) => key in wrapper;
  if (hasPendingWrites(inner) && !own('pendingSize')) {
    self.pendingSize = (path, options) =>
      run({ action: 'PendingSize', paths: [path], signal: options?.signal }, () => inner.pendingSize(path, options));
  }
  if (canCreateExclusive(inner) && !own('createExclusive')) {
    self.createExclusive = (path, content, options) =>
      run({ action: 'CreateExclusive', paths: [path], signal: options?.signal }, () => inner.createExclusive(path, content, options));
  }
  if (canPresign(inner) && !own('presignedGetURL')) {
    self.presignedGetURL = (path, expires, options) =>
      run({ action: 'URLFor', paths: [path], signal: options?.signal }, () => inner.presignedGetURL(path, expires, options));
  }
  if (canRedirect(inner) && !own('redirectURL')) {
    self.redirectURL = (path, request, options) =>
      run({ action: 'RedirectURL', paths: [path], signal: options?.signal }, () => inner.redirectURL(path, request, options));
  }
  // Plain values and pure functions: nothing to time, limit or abort, only to hand through.
  if (hasChunkMinimum(inner) && !own('minChunkLength')) {
    Object.defineProperty(wrapper, 'minChunkLength', { get: () => inner.minChunkLength, enumerable: true });
  }
  if (hasBucketKeys(inner) && !own('bucketKey')) self.bucketKey = (path) => inner.bucketKey(path);
}
