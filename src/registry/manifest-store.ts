// Manifests: stored as blobs, linked into a repository under `_manifests/revisions`, named by
// tags; every PUT is parsed, checked against the repository's content (each config and layer
// present with the size its descriptor says, but for non-distributable layers whose URLs pass
// `validation.manifests.urls`), and indexed for referrers.
import { digestOf, tryParseDigest, type Digest } from '../oci/digest.js';
import { InvalidManifestError, parseManifest, type Descriptor, type ParsedManifest } from '../oci/manifest.js';
import { isValidTag, looksLikeDigest } from '../oci/reference.js';
import type { StorageDriver } from '../storage/driver.js';
import { RegistryError } from '../errors/index.js';
import type { BlobStore, UploadReview } from './blob-store.js';
import { layout } from './layout.js';
import { linkExists, writeLink } from './links.js';
import type { TagStore } from './tag-store.js';
import type { ReferrerIndex } from './referrer-index.js';
import { deleteIfPresent } from './storage-errors.js';
import type { TagGuard } from './tag-guard.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { ListingIndex } from './listing-index.js';
import { StorageListing } from './storage-listing.js';
import { ManifestUrlPolicy } from './manifest-urls.js';
import { manifestFacts } from './manifest-facts.js';
import { ManifestContentCache } from './manifest-content-cache.js';

export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  content: Buffer;
  /** The parsed content; undefined for stored bytes Berth cannot parse (schema1, say). */
  parsed: ParsedManifest | undefined;
}

/** What a manifest PUT stored, so listeners (events, metrics) need not hash or parse it again. */
export interface PutResult {
  digest: Digest;
  subject?: Digest;
  /** The manifest's media type as parsed (its own mediaType, else the Content-Type it came with). */
  mediaType: string;
  /** Bytes of the manifest. */
  size: number;
  /** Whether the repository lacked this manifest before (a new revision link). */
  newLink: boolean;
}

/** A manifest reference from a URL: a tag or a digest, each checked against its grammar. */
export type ManifestReference = { tag: string } | { digest: Digest };

export function parseReference(reference: string): ManifestReference {
  if (looksLikeDigest(reference)) {
    const parsed = tryParseDigest(reference);
    if (typeof parsed === 'string') throw new RegistryError('DIGEST_INVALID', { reference, reason: parsed });
    return { digest: parsed };
  }
  if (!isValidTag(reference)) throw new RegistryError('MANIFEST_INVALID', { reason: 'invalid tag', tag: reference });
  return { tag: reference };
}

export class ManifestStore {
  readonly #driver: StorageDriver;
  readonly #blobs: BlobStore;
  readonly #tags: TagStore;
  readonly #referrers: ReferrerIndex;
  readonly #guard: TagGuard | undefined;
  readonly #index: ListingIndex;
  readonly #urls: ManifestUrlPolicy;
  readonly #locks = new KeyedMutex();
  readonly #contents = new ManifestContentCache();
  readonly #review: UploadReview | undefined;

  /** `urls`: which layer URLs pushes may name (Distribution's default without: none); `review`: queues the review of new revisions pushes write. */
  constructor(driver: StorageDriver, blobs: BlobStore, tags: TagStore, referrers: ReferrerIndex, guard?: TagGuard, index?: ListingIndex, urls?: ManifestUrlPolicy, review?: UploadReview) {
    this.#driver = driver;
    this.#review = review;
    this.#urls = urls ?? new ManifestUrlPolicy();
    this.#index = index ?? new StorageListing(driver);
    this.#blobs = blobs;
    this.#tags = tags;
    this.#referrers = referrers;
    this.#guard = guard;
  }

  async resolve(name: string, ref: ManifestReference): Promise<Digest> {
    const digest = 'tag' in ref ? await this.#tags.resolve(name, ref.tag) : ref.digest;
    if (!digest || !(await this.exists(name, digest))) throw manifestUnknown(ref);
    return digest;
  }

  async exists(name: string, digest: Digest): Promise<boolean> {
    return linkExists(this.#driver, layout.revisionLink(name, digest));
  }

  async get(name: string, ref: ManifestReference): Promise<StoredManifest> {
    const digest = await this.resolve(name, ref);
    let cached = this.#contents.get(digest.value);
    if (!cached) {
      const content = await this.#blobs.getSmall(digest);
      if (!content) throw manifestUnknown(ref);
      cached = { content, parsed: parseStored(content) };
      // Only bytes that match their digest are kept (storage is not trusted to be intact).
      if (digestOf(content, digest.algorithm).value === digest.value) this.#contents.set(digest.value, cached);
    }
    const { content, parsed } = cached;
    return { digest, content, parsed, mediaType: parsed?.mediaType ?? 'application/octet-stream' };
  }

  /** Descriptors of the manifests whose `subject` is `subject`, optionally of one artifact type. */
  async referrers(name: string, subject: Digest, artifactType?: string): Promise<Descriptor[]> {
    const out: Descriptor[] = [];
    for (const digest of await this.#referrers.list(name, subject)) {
      const stored = await this.get(name, { digest }).catch(() => undefined);
      if (!stored?.parsed) continue;
      const { mediaType, artifactType: type, annotations } = stored.parsed;
      if (artifactType !== undefined && type !== artifactType) continue;
      const d: Descriptor = { mediaType, digest: digest.value, size: stored.content.length };
      if (type) d.artifactType = type;
      if (annotations) d.annotations = annotations;
      out.push(d);
    }
    return out;
  }

  async put(name: string, ref: ManifestReference, content: Buffer, contentType: string | undefined): Promise<PutResult> {
    const digest = digestOf(content, 'digest' in ref ? ref.digest.algorithm : 'sha256');
    if ('digest' in ref && ref.digest.value !== digest.value) {
      throw new RegistryError('DIGEST_INVALID', { expected: ref.digest.value, actual: digest.value });
    }
    const manifest = parseOrInvalid(content, contentType);
    this.#assertUrlsAllowed(manifest);
    if ('tag' in ref && this.#guard?.applies(name)) {
      this.#guard.beforeTag(name, ref.tag, digest.value, (await this.#tags.resolve(name, ref.tag))?.value);
    }
    // Serialized with a delete of the same manifest, which could otherwise remove the revision
    // between its link and its tag being written and leave a tag naming nothing.
    return this.#locks.run(`${name}@${digest.value}`, () => this.#put(name, ref, digest, content, manifest));
  }

  async #put(name: string, ref: ManifestReference, digest: Digest, content: Buffer, manifest: ParsedManifest): Promise<PutResult> {
    await this.#assertReferencesExist(name, manifest);
    const result = await this.#write(name, digest, content, manifest, true);
    // An online GC may be about to delete what was checked above: it marks content, then
    // rescans for manifests written since its mark phase, then deletes. Checking for its marks
    // after our writes means either we see the mark and refuse, or it sees our manifest and
    // keeps the content (src/gc/sweep.ts explains both halves).
    await this.#assertReferencesExist(name, manifest, digest);
    if ('tag' in ref) await this.#tags.tag(name, ref.tag, digest);
    return { ...result, mediaType: manifest.mediaType };
  }

  /** Stores the bytes, links the revision through the listing index, and indexes its subject. */
  /** `pushed`: a client's PUT (not the cache's), whose new revision is queued for review before it is written. */
  async #write(name: string, digest: Digest, content: Buffer, manifest: ParsedManifest | undefined, pushed = false): Promise<Omit<PutResult, 'mediaType'>> {
    const newLink = !(await this.exists(name, digest));
    if (pushed && newLink) await this.#review?.manifest(name, digest);
    await this.#blobs.putSmall(digest, content);
    const facts = await manifestFacts(digest.value, content, manifest, (d) => this.#blobs.size(tryParseDigest(d) as Digest));
    await this.#index.change(name, () => writeLink(this.#driver, layout.revisionLink(name, digest), digest), () => [{ kind: 'manifest', manifest: facts }]);
    const result: Omit<PutResult, 'mediaType'> = { digest, size: content.length, newLink };
    const subject = manifest?.subject ? tryParseDigest(manifest.subject.digest) : undefined;
    if (subject && typeof subject !== 'string') {
      await this.#referrers.add(name, subject, digest);
      result.subject = subject;
    }
    return result;
  }

  /**
   * Stores a manifest whose digest the caller vouches for (the pull-through cache, which got it
   * from its upstream) the way a push would, listing index included, minus the check that its
   * blobs are here: a cache holds manifests whose layers nobody pulled yet. Bytes Berth cannot
   * parse are stored as they are (served back with `mediaType`).
   */
  async putTrusted(name: string, digest: Digest, content: Buffer, mediaType: string, tag?: string): Promise<StoredManifest & { newLink: boolean }> {
    const parsed = parseOrUndefined(content, mediaType);
    const { newLink } = await this.#locks.run(`${name}@${digest.value}`, () => this.#write(name, digest, content, parsed));
    if (tag !== undefined) await this.#tags.tag(name, tag, digest);
    return { digest, content, parsed, mediaType: parsed?.mediaType ?? (mediaType || 'application/octet-stream'), newLink };
  }

  /** Deletes a tag, or a manifest by digest together with every tag that points at it. */
  async delete(name: string, ref: ManifestReference): Promise<void> {
    if (this.#guard?.applies(name)) {
      const tags = 'tag' in ref ? [ref.tag] : await this.#tagsOf(name, ref.digest);
      this.#guard.beforeUntag(name, tags);
    }
    if ('tag' in ref) {
      if (!(await this.#tags.untag(name, ref.tag))) throw manifestUnknown(ref);
      return;
    }
    await this.#locks.run(`${name}@${ref.digest.value}`, () => this.#deleteDigest(name, ref.digest));
  }

  /**
   * Deletes a manifest (as a DELETE by digest would) unless `keep`, asked under the manifest's
   * lock, says it is still needed: the review worker's half of the handshake with the push path,
   * since a PUT or tag of the same manifest takes the same lock. False when kept or gone.
   */
  async deleteUnlessKept(name: string, digest: Digest, keep: () => Promise<boolean>): Promise<boolean> {
    return this.#locks.run(`${name}@${digest.value}`, async () => {
      if (!(await this.exists(name, digest)) || (await keep())) return false;
      await this.#deleteDigest(name, digest);
      return true;
    });
  }

  async #deleteDigest(name: string, digest: Digest): Promise<void> {
    if (!(await this.exists(name, digest))) throw manifestUnknown({ digest });
    const content = await this.#blobs.getSmall(digest);
    await this.#tags.untagDigest(name, digest);
    const revision = layout.revisionLink(name, digest).replace(/\/link$/, '');
    await this.#index.change(name, () => deleteIfPresent(this.#driver.delete(revision)), () => [{ kind: 'unmanifest', digest: digest.value }, { kind: 'recheck' }]);
    const subject = content ? parseStored(content)?.subject : undefined;
    const subjectDigest = subject ? tryParseDigest(subject.digest) : undefined;
    if (subjectDigest && typeof subjectDigest !== 'string') await this.#referrers.remove(name, subjectDigest, digest);
  }

  async #tagsOf(name: string, digest: Digest): Promise<string[]> {
    return this.#tags.tagsOf(name, digest);
  }

  #assertUrlsAllowed(manifest: ParsedManifest): void {
    for (const d of [...manifest.blobs, ...manifest.external]) {
      for (const url of d.urls ?? []) {
        const problem = this.#urls.problem(url);
        if (problem) throw new RegistryError('MANIFEST_INVALID', { digest: d.digest, url, reason: `layer URL refused: ${problem}` });
      }
    }
  }

  // Each distinct digest is looked up once: a manifest under the size limit can list the same
  // descriptor tens of thousands of times, and must not cost a storage lookup for each. The
  // size that lookup returns is what every descriptor of that digest must declare.
  /** With `written` (the re-check after writing it), content an online GC is deleting counts as missing. */
  async #assertReferencesExist(name: string, manifest: ParsedManifest, written?: Digest): Promise<void> {
    const pending = async (d: Digest) => written !== undefined && (await this.#blobs.pendingDeletion(d));
    const declared = new Map<string, Set<number>>();
    for (const b of manifest.blobs) declared.set(b.digest, (declared.get(b.digest) ?? new Set()).add(b.size));
    for (const [digest, sizes] of declared) {
      const d = tryParseDigest(digest) as Digest;
      const stored = (await this.#blobs.isLinked(name, d)) ? await this.#blobs.size(d) : undefined;
      if (stored === undefined || (await pending(d))) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', { digest });
      for (const size of sizes) {
        if (size !== stored) throw new RegistryError('MANIFEST_INVALID', { digest, size, reason: `the descriptor says ${size} bytes; the blob has ${stored}` });
      }
    }
    for (const digest of new Set(manifest.manifests.map((m) => m.digest))) {
      const d = tryParseDigest(digest) as Digest;
      if (!(await this.exists(name, d)) || (await pending(d))) {
        throw new RegistryError('MANIFEST_BLOB_UNKNOWN', { digest });
      }
    }
    if (written && (await pending(written))) {
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', { digest: written.value, reason: 'being garbage collected; retry' });
    }
  }
}

function parseOrInvalid(content: Buffer, contentType: string | undefined): ParsedManifest {
  try {
    return parseManifest(content, contentType);
  } catch (err) {
    if (err instanceof InvalidManifestError) throw new RegistryError('MANIFEST_INVALID', err.message);
    throw err;
  }
}

function parseOrUndefined(content: Buffer, contentType: string): ParsedManifest | undefined {
  try {
    return parseManifest(content, contentType);
  } catch {
    return undefined;
  }
}

/** A stored manifest parsed the way Distribution reads it back (its type from its content). */
function parseStored(content: Buffer): ParsedManifest | undefined {
  try {
    return parseManifest(content);
  } catch {
    return undefined;
  }
}

function manifestUnknown(ref: ManifestReference): RegistryError {
  return new RegistryError('MANIFEST_UNKNOWN', 'tag' in ref ? { tag: ref.tag } : { digest: ref.digest.value });
}

