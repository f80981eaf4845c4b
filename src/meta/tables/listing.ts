// The listing index (src/registry/listing-index.ts): repositories, tags and referrers as storage
// holds them, plus the intents that let a crash between a storage write and its index write be
// repaired from storage (src/meta/listing-index.ts explains the protocol).
import type { ColumnType } from 'kysely';

/** bigint columns: PostgreSQL's driver returns them as strings, SQLite's as numbers. */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface ListingTables {
  berth_listing_repository: {
    name: string;
    /** 1 when the repository holds manifests (is in the catalog); 0 while only its `seq` is kept. */
    present: number;
    /** Bumped by every change to the repository, so a re-read from storage can tell it raced one. */
    seq: BigIntColumn;
  };
  berth_listing_tag: { repository: string; tag: string; digest: string };
  berth_listing_referrer: { repository: string; subject: string; referrer: string };
  berth_listing_intent: {
    id: string;
    repository: string;
    /** Milliseconds since the epoch. */
    created_at: BigIntColumn;
  };
}
