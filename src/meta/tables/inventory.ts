// What the read API (/api/v1) knows about each artifact beyond the listing index: facts read
// once from the manifest and its config when it is pushed (media and artifact type, platforms,
// sizes, created, annotations), when it was pushed and last pulled, and per repository the
// deduplicated bytes its artifacts reference. Written by src/inventory/recorder.ts.
import type { ColumnType } from 'kysely';

/** bigint columns: PostgreSQL's driver returns them as strings, SQLite's as numbers. */
type BigIntColumn = ColumnType<number | string, number, number>;
type NullableBigInt = ColumnType<number | string | null, number | null | undefined, number | null>;

export interface InventoryTables {
  berth_inventory_artifact: {
    repository: string;
    digest: string;
    media_type: string;
    artifact_type: string | null;
    /** image | index | other (bytes Berth cannot parse). */
    kind: string;
    /** The digest this artifact refers to (a signature's or SBOM's subject). */
    subject: string | null;
    config_digest: string | null;
    manifest_size: BigIntColumn;
    /** Total compressed bytes: the manifest, its config and layers (an index: its children's, each blob once). */
    size: BigIntColumn;
    /** JSON: [{os, architecture, variant?, osVersion?, digest, size}]. */
    platforms: string;
    /** ISO-8601 from the image config's `created`, when it has one. */
    created: string | null;
    /** JSON object of the manifest's annotations. */
    annotations: string;
    /** JSON: [[digest, size], ...], every blob counted in `size` (the manifest itself included), each once. */
    blobs: string;
    /** Milliseconds since the epoch; null when it was found in storage rather than seen pushed. */
    pushed_at: NullableBigInt;
    last_pulled_at: NullableBigInt;
  };
  /** The blobs a repository's artifacts reference, counted, so a repository's bytes are each blob once. */
  berth_inventory_blob: { repository: string; digest: string; size: BigIntColumn; refs: number };
  /** Index children: listed under their index, not as artifacts of their own. */
  berth_inventory_child: { repository: string; parent: string; child: string };
  berth_inventory_repository: {
    name: string;
    last_push_at: NullableBigInt;
    /** Deduplicated bytes of the repository's artifacts. */
    size: BigIntColumn;
    artifacts: number;
  };
}
