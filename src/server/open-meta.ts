// The metadata database alone, for the commands that only read or change it (users, projects,
// robots, audit, dead letters): the same database `assemble` opens for the configuration,
// without building a storage driver.
import type { Config } from '../config/schema.js';
import { openMetaDatabase, type MetaDatabase } from '../meta/database.js';
import { metaOptionsFromConfig } from '../meta/from-config.js';

export function openMeta(config: Config): Promise<MetaDatabase> {
  return openMetaDatabase(metaOptionsFromConfig(config));
}
