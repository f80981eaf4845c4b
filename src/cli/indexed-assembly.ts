// The one way a maintenance command (`berth usage`, `berth tag`, `berth gc --reconcile`) opens
// the registry when it needs the metadata database's listing index: assembled as `berth serve`
// would be, refused with exit status 2 when the index is disabled, closed when done.
import type { Config } from '../config/schema.js';
import type { Assembly } from '../server/assemble.js';

export type IndexedAssembly = Assembly & { readonly [K in 'meta' | 'listing' | 'usage']: NonNullable<Assembly[K]> };

/** `refusal`: what the command tells the operator when the listing index is off. */
export async function withIndexedAssembly(config: Config, refusal: string, run: (assembly: IndexedAssembly) => Promise<void>): Promise<void> {
  const [{ assemble }, { commandLogger }] = await Promise.all([import('../server/assemble.js'), import('../server/command-logger.js')]);
  const assembly = await assemble(config, { logger: commandLogger() });
  try {
    const { meta, listing, usage } = assembly;
    if (!meta || !listing || !usage) {
      process.stderr.write(`${refusal}\n`);
      process.exitCode = 2;
      return;
    }
    await run(assembly as IndexedAssembly);
  } finally {
    await assembly.close();
  }
}
