// Every migration, in order. Names sort in application order; a released migration is never
// edited, only followed by a new one. Features add theirs here (NNNN-<feature>.ts).
import type { Migration } from 'kysely';
import { bookkeeping } from './0000-bookkeeping.js';
import { auth } from './0100-auth.js';
import { events } from './0200-events.js';
import { eventsLease } from './0250-events-lease.js';
import { listing } from './0300-listing.js';
import { proxy } from './0500-proxy.js';
import { consoleSessions } from './0600-console.js';
import { inventory } from './0650-inventory.js';
import { inventoryKeys } from './0651-inventory-keys.js';
import { readRecords } from './0652-read-records.js';
import { replication } from './0700-replication.js';
import { replicationOrigin } from './0701-replication-origin.js';
import { gcReferences } from './0900-gc-references.js';
import { gcReconcile } from './0901-gc-reconcile.js';
import { gcTagDeletedPolicy } from './0902-gc-tag-deleted-policy.js';
import { gcReviewDigest } from './0903-gc-review-digest.js';
import { identity } from './1000-identity.js';
import { trustPolicies } from './1100-trust-policies.js';

export const MIGRATIONS: Record<string, Migration> = {
  '0000-bookkeeping': bookkeeping,
  '0100-auth': auth,
  '0200-events': events,
  '0250-events-lease': eventsLease,
  '0300-listing': listing,
  '0500-proxy': proxy,
  '0600-console': consoleSessions,
  '0650-inventory': inventory,
  '0651-inventory-keys': inventoryKeys,
  '0652-read-records': readRecords,
  '0700-replication': replication,
  '0701-replication-origin': replicationOrigin,
  '0900-gc-references': gcReferences,
  '0901-gc-reconcile': gcReconcile,
  '0902-gc-tag-deleted-policy': gcTagDeletedPolicy,
  '0903-gc-review-digest': gcReviewDigest,
  '1000-identity': identity,
  '1100-trust-policies': trustPolicies,
};
