// The metadata database's tables, as Kysely sees them. Each feature declares its own tables in
// tables/<feature>.ts and adds its interface to MetaTables (one line each, so features added in
// parallel do not conflict); migrations/ creates them.
import type { BookkeepingTables } from './bookkeeping.js';
import type { AuthTables } from './auth.js';
import type { EventsTables } from './events.js';
import type { ListingTables } from './listing.js';
import type { ProxyTables } from './proxy.js';
import type { ConsoleTables } from './console.js';
import type { ReplicationTables } from './replication.js';
import type { ReferenceTables } from './references.js';
import type { GcTables } from './gc.js';
import type { InventoryTables } from './inventory.js';
import type { IdentityTables } from './identity.js';
import type { GcRunTables } from './gc-runs.js';
import type { ProxyStatsTables } from './proxy-stats.js';
import type { TrustTables } from './trust.js';

export interface MetaTables extends
  BookkeepingTables,
  AuthTables,
  EventsTables,
  ListingTables,
  ProxyTables,
  ConsoleTables,
  ReplicationTables,
  ReferenceTables,
  GcTables,
  InventoryTables,
  IdentityTables,
  GcRunTables,
  ProxyStatsTables,
  TrustTables
  {}
