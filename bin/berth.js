#!/usr/bin/env node
// The `berth` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import module from 'node:module';

// Node 22.1+ keeps the compiled code of Berth's ~1,000 modules between starts (start time,
// bench/README.md); older Node has no such cache, and a cache that cannot be written is skipped.
module.enableCompileCache?.();
const { main } = await import('../dist/src/cli/main.js');

main(process.argv).catch((err) => {
  process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
