// How a job failed, as the worker tells retry from park. Kept apart from the executor so the
// worker (loaded whenever replication may be used) does not load the OCI client with it.
import type { JobCounts } from './job-store.js';

/** A failure waiting does not mend: the endpoint refused the credentials, or the policy is gone. */
export class PermanentFailure extends Error {}

/** A job that did part of its work: the counts so far and the first failures. */
export class PartialFailure extends Error {
  constructor(readonly counts: JobCounts, readonly failures: string[]) {
    super(`${failures.length} image(s) failed; first: ${failures[0] ?? ''}`);
    this.name = 'PartialFailure';
  }
}
