// The one map of storage drivers: name -> its configuration schema and how to load it. Adding a
// driver (Azure, GCS, ...) is one folder, drivers/<name>/{schema,index}.ts, plus one entry here;
// the configuration schema (src/config/sections/storage.ts) builds `storage.<name>` from it.
//
// Import rules: src/config imports this map, so it imports statically only the drivers' schema
// files (typebox only) and the contract's types. Drivers load on first use (the AWS SDK alone
// takes seconds to load on a busy machine).
import type { Static, TSchema } from '@sinclair/typebox';
import type { StorageDriver } from '../driver.js';
import { FilesystemSchema } from './filesystem/schema.js';
import { InmemorySchema } from './inmemory/schema.js';
import { S3Schema } from './s3/schema.js';

/** What a driver folder's index.ts exports. */
export interface DriverModule<S extends TSchema> {
  /** The driver for the options as loaded (schema defaults applied). */
  create(options: Static<S>): StorageDriver;
}

export interface DriverEntry<S extends TSchema> {
  schema: S;
  load(): Promise<DriverModule<S>>;
}

const entry = <S extends TSchema>(e: DriverEntry<S>): DriverEntry<S> => e;

export const DRIVERS = {
  filesystem: entry({ schema: FilesystemSchema, load: () => import('./filesystem/index.js') }),
  inmemory: entry({ schema: InmemorySchema, load: () => import('./inmemory/index.js') }),
  s3: entry({ schema: S3Schema, load: () => import('./s3/index.js') }),
};

export type DriverName = keyof typeof DRIVERS;
export const DRIVER_NAMES = Object.keys(DRIVERS) as DriverName[];

/** A driver's options as loaded (schema defaults applied). */
export type DriverOptions<N extends DriverName> = Static<(typeof DRIVERS)[N]['schema']>;

/**
 * The driver part of `storage` as loaded: a union tagged by `driver`, with that driver's section
 * beside it as in Distribution's config.yml (`{ driver: 's3', s3: { bucket, ... } }`). The other
 * drivers' keys are typed absent, so `storage.filesystem?.rootdirectory` reads without narrowing.
 */
export type DriverSelection = {
  [N in DriverName]: { driver: N } & { [K in N]: DriverOptions<N> } & { [K in Exclude<DriverName, N>]?: undefined }
}[DriverName];

/** Distribution's drivers that have no entry yet: accepted by the schema, refused at start. */
export const UNIMPLEMENTED_DRIVERS = ['azure', 'gcs', 'swift', 'oss'].filter((n) => !(n in DRIVERS));

/** The configured driver, not yet wrapped (from-config.ts adds the middleware and checking). */
export async function createDriver(selection: DriverSelection): Promise<StorageDriver> {
  // The map ties each name to its own options type; TypeScript cannot follow that through the
  // union, so the entry is looked at as one of a name-independent shape.
  const e = DRIVERS[selection.driver] as DriverEntry<TSchema>;
  return (await e.load()).create((selection as Record<string, unknown>)[selection.driver]);
}
