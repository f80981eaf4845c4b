// Reference tracking for garbage collection and storage usage (issue 20), written in the same
// transaction as the listing index's change (src/meta/references.ts):
// - berth_ref_manifest: every manifest revision of every repository, with its bytes and subject;
// - berth_ref_manifest_blob: the blobs it references (config, layers, and its own bytes);
// - berth_ref_child: index -> child manifests;
// - berth_usage_*: per repository and per project, how many revisions reference each blob and
//   the deduplicated byte totals, kept incrementally (a blob counts once per repository and once
//   per project however many manifests share it);
// - berth_gc_review: things that may have become unreferenced, due for a re-check after a grace.
import type { ColumnType } from 'kysely';

/** bigint columns: PostgreSQL's driver returns them as strings, SQLite's as numbers. */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface ReferenceTables {
  berth_ref_manifest: { repository: string; digest: string; size: BigIntColumn; subject: string | null; created_at: BigIntColumn };
  berth_ref_manifest_blob: { repository: string; manifest: string; blob: string; size: BigIntColumn };
  berth_ref_child: { repository: string; parent: string; child: string };
  berth_usage_repository_blob: { repository: string; blob: string; size: BigIntColumn; refs: number };
  berth_usage_project_blob: { project: string; blob: string; size: BigIntColumn; refs: number };
  berth_usage_repository: { repository: string; project: string; bytes: BigIntColumn; manifests: number };
  berth_usage_project: { project: string; bytes: BigIntColumn };
  berth_gc_review: {
    /** `manifest` (repository + digest) or `blob` (the repository that released it, whose layer link goes with it; '' in rows queued before that). */
    kind: string;
    repository: string;
    digest: string;
    /** What queued it: untag, retag, unmanifest, unreferenced, upload (a blob a push uploaded or mounted), pushed (a new revision). */
    reason: string;
    /** Milliseconds since the epoch. */
    queued_at: BigIntColumn;
    due_at: BigIntColumn;
  };
}
