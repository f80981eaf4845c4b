// Replication's durable state (src/replication): its jobs, one row each from queued to done or
// parked, with the lease of the replica running it; and the endpoints and policies added through
// the admin API (those of config.yml live in the configuration), endpoint passwords encrypted.
import type { ColumnType } from 'kysely';

/** bigint columns: PostgreSQL's driver returns them as strings, SQLite's as numbers. */
type BigIntColumn = ColumnType<number | string, number, number>;
type NullableBigInt = ColumnType<number | string | null, number | null | undefined, number | null>;

export type ReplicationJobState = 'queued' | 'running' | 'done' | 'parked';

export interface ReplicationTables {
  replication_jobs: {
    id: string;
    policy: string;
    /** `tag`: one tag of one repository; `digest`: one manifest (a deletion); `run`: the whole policy. */
    kind: string;
    /** Source-side repository ('' for a run). */
    repository: string;
    /** The tag or digest ('' for a run). */
    reference: string;
    /** What the job is about (policy, repository, reference): one queued and one running at most. */
    subject: string;
    state: ReplicationJobState;
    /** event, schedule, manual, retry. */
    trigger: string;
    attempts: number;
    /** Milliseconds since the epoch. */
    next_attempt_at: BigIntColumn;
    /** The replica holding the job while it runs, until `lease_until`. */
    lease_owner: string | null;
    lease_until: NullableBigInt;
    created_at: BigIntColumn;
    started_at: NullableBigInt;
    finished_at: NullableBigInt;
    last_error: string | null;
    /** Counts of the last attempt: images copied, bytes sent, images already there, images failed. */
    images: number;
    bytes: BigIntColumn;
    skipped: number;
    failed: number;
  };
  replication_endpoints: {
    name: string;
    url: string;
    username: string | null;
    /** AES-256-GCM, base64 of iv | tag | ciphertext; null without a password. */
    password_sealed: string | null;
    insecure: number;
    ca: string | null;
    updated_at: BigIntColumn;
    /** `api` (added through the API or CLI) or `config` (config.yml's, stored at start; migration 0701). */
    origin: ColumnType<string, string | undefined, string>;
  };
  replication_policies: {
    name: string;
    /** The policy as the admin API took it (config.yml's shape), JSON. */
    body: string;
    updated_at: BigIntColumn;
  };
}
