// What issue 20's later pieces keep beside the reference tables (tables/references.ts):
// - berth_gc_orphan: storage objects the database does not know about, with when the reconciler
//   (src/gc/reconcile.ts) first saw them; removed only once they stayed unknown past its grace;
// - berth_tag_deleted: tags deleted or moved, restorable within `gc.tagrestore`
//   (src/gc/tag-restore.ts); the manifest they named is kept meanwhile;
// - berth_quota_reservation: room a manifest PUT took under the project's quota lock before it
//   writes, so replicas sharing the database cannot both pass the quota (src/policy/quota.ts).
import type { ColumnType } from 'kysely';

/** bigint columns: PostgreSQL's driver returns them as strings, SQLite's as numbers. */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface GcTables {
  berth_gc_orphan: {
    /** `blob` (repository ''), `manifest` (a revision) or `layer` (a layer link whose blob is gone). */
    kind: string;
    repository: string;
    digest: string;
    /** Milliseconds since the epoch. */
    first_seen: BigIntColumn;
  };
  berth_tag_deleted: {
    repository: string;
    tag: string;
    /** The manifest the tag named when it was deleted or moved. */
    digest: string;
    /** untag | retag | retention */
    reason: string;
    deleted_at: BigIntColumn;
    /** reason retention: the rules that deleted it ("team", "team/web/*"). */
    policy: ColumnType<string | null, string | null | undefined, string | null>;
  };
  berth_quota_reservation: {
    id: string;
    project: string;
    bytes: BigIntColumn;
    /** A reservation its process never released (it died) stops counting then. */
    expires_at: BigIntColumn;
  };
}
