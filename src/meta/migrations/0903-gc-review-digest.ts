// Review rows by digest: a blob's review looks for other repositories' rows for the same blob
// (a fresh upload elsewhere takes over deciding about the data), and with a row queued for every
// uploaded blob the queue is too long to scan for that.
import type { Kysely, Migration } from 'kysely';

export const gcReviewDigest: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex('berth_gc_review_digest').on('berth_gc_review').columns(['digest', 'kind']).execute();
  },
};
