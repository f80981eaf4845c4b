// `storage`: which driver, and the storage-wide switches Distribution has. The drivers' own keys
// come from the driver map (src/storage/drivers/registry.ts), one optional section per driver,
// so a new driver needs no change here.
import { Type, type Static, type StaticDecode } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { millis, strict, unimplemented } from './common.js';
import {
  DRIVER_NAMES, DRIVERS, UNIMPLEMENTED_DRIVERS, type DriverName, type DriverSelection,
} from '../../storage/drivers/registry.js';

const UploadPurging = Type.Object({
  enabled: Type.Boolean({ default: true }),
  age: millis('168h'),
  interval: millis('24h'),
  dryrun: Type.Boolean({ default: false }),
}, { ...strict, default: {} });

const driverSections = Object.fromEntries(DRIVER_NAMES.map((name) => [name, Type.Optional(DRIVERS[name].schema)]));
const DRIVER_TITLES: Record<string, string> = { azure: 'Azure', gcs: 'GCS', swift: 'Swift', oss: 'OSS' };
const unimplementedSections = Object.fromEntries(
  UNIMPLEMENTED_DRIVERS.map((name) => [name, unimplemented(`the ${DRIVER_TITLES[name] ?? name} driver is not implemented`)]),
);

const CommonStorage = Type.Object({
  /**
   * Berth's addition, set by the loader from the driver section present (filesystem when none);
   * accepted in the file so that a printed configuration loads again.
   */
  driver: Type.Optional(Type.Union(DRIVER_NAMES.map((name) => Type.Literal(name)))),
  delete: Type.Object({ enabled: Type.Boolean({ default: false }) }, { ...strict, default: {} }),
  /**
   * Berth's addition: `POST ?mount=<digest>` without `from` mounts the blob from a repository
   * the caller may pull that holds it (the spec's automatic content discovery); else 202.
   */
  crossmount: Type.Object({
    automatic: Type.Boolean({ default: true }),
    /** Repositories looked at per mount before giving up (each costs one storage stat). */
    maxrepositories: Type.Integer({ default: 500, minimum: 1 }),
  }, { ...strict, default: {} }),
  maintenance: Type.Object({
    uploadpurging: UploadPurging,
    readonly: Type.Object({ enabled: Type.Boolean({ default: false }) }, { ...strict, default: {} }),
  }, { ...strict, default: {} }),
  cache: Type.Optional(Type.Object({
    blobdescriptor: Type.Optional(Type.String()),
    blobdescriptorsize: Type.Optional(Type.Integer()),
  }, strict)),
  // Blob GETs answer 307 to the driver's presigned URL (S3) when the driver can make one.
  redirect: Type.Object({
    disable: Type.Boolean({ default: false }),
    /** Berth's addition: how long a presigned URL stays valid (Distribution: fixed 20m). */
    expiry: millis('20m'),
  }, { ...strict, default: {} }),
});

export const StorageSection = Type.Object({
  ...CommonStorage.properties,
  ...driverSections,
  ...unimplementedSections,
}, { ...strict, default: {} });

/**
 * `storage` as written (what `berth config print` shows): the common switches, durations as
 * text, and the driver as a union tagged by `driver`.
 */
export type StorageConfig = Omit<Static<typeof CommonStorage>, 'driver'> & DriverSelection;

/** `storage` as features read it: the same, with durations in milliseconds. */
export type StorageSettings = Omit<StaticDecode<typeof CommonStorage>, 'driver'> & DriverSelection;

type Tree = Record<string, unknown>;

/**
 * Before validation: `driver: s3` and no driver section gets an empty `s3:` one (its defaults
 * and required keys then apply as if it were written).
 */
export function prepareStorage(raw: Tree): void {
  const storage = raw.storage as Tree | undefined;
  const driver = storage?.driver;
  const none = storage && [...DRIVER_NAMES, ...UNIMPLEMENTED_DRIVERS].every((d) => storage[d] === undefined);
  if (storage && none && typeof driver === 'string' && (DRIVER_NAMES as string[]).includes(driver)) {
    storage[driver] = driver === 'inmemory' ? null : {};
  }
}

/**
 * After validation: tags the section with its driver, filesystem (with its defaults) when none
 * is configured, as Distribution has no default but registry:2's image config names filesystem.
 * Returns the problems: two drivers, a driver without an implementation, a tag naming another.
 */
export function selectDriver(storage: Tree): string[] {
  const configured = [...DRIVER_NAMES, ...UNIMPLEMENTED_DRIVERS].filter((d) => storage[d] !== undefined);
  if (configured.length > 1) return [`storage: more than one driver configured (${configured.join(', ')})`];
  const unsupported = configured.filter((d) => !(DRIVER_NAMES as string[]).includes(d));
  if (unsupported.length > 0) return [`storage.${unsupported[0]}: this storage driver is not implemented yet`];
  const name = (configured[0] ?? 'filesystem') as DriverName;
  if (storage.driver !== undefined && storage.driver !== name) {
    return [`storage.driver: names ${String(storage.driver)} but the ${name} driver is configured`];
  }
  storage.driver = name;
  if (storage[name] === undefined) storage[name] = Value.Default(DRIVERS.filesystem.schema, {});
  return [];
}
