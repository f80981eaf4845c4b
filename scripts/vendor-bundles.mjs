// Build step after `tsc` (npm run build): bundles the two libraries every `berth serve` loads at
// start and that ship as hundreds of small ES modules (kysely: 262 files, TypeBox: 247, of ~1,150
// modules at start) into one file each under dist/vendor/, and points dist/'s imports at them.
// Node 20 has no compile cache, and each ES module costs a resolve, an open, a stat, a read, a
// compile and a link: the bundles load in a tenth of the time (bench/README.md, issue 22).
// Without this step (a plain `tsc`, or an install without rolldown) dist/ imports the packages
// themselves, as before: same behaviour, slower start.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const vendor = join(dist, 'vendor');

/** Bundle name -> the package specifier dist/ imports. */
const BUNDLES = {
  kysely: 'kysely',
  typebox: '@sinclair/typebox',
  'typebox-value': '@sinclair/typebox/value',
};

let build;
try {
  ({ build } = await import('rolldown'));
} catch {
  process.stdout.write('vendor-bundles: rolldown is not installed; dist/ imports kysely and TypeBox unbundled\n');
  process.exit(0);
}

// One build: the two TypeBox entries share one chunk, so there is one copy of TypeBox.
await build({
  input: BUNDLES,
  cwd: root,
  platform: 'node',
  logLevel: 'warn',
  output: { dir: vendor, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', sourcemap: false },
});

/** Every .js file under dir. */
async function* jsFiles(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* jsFiles(path);
    else if (entry.name.endsWith('.js')) yield path;
  }
}

const specifiers = new Map(Object.entries(BUNDLES).map(([name, spec]) => [spec, name]));
// Static imports and re-exports as tsc emits them (`from 'x'`), and dynamic `import('x')`.
const pattern = /(\bfrom\s*|\bimport\s*\(\s*)(['"])(kysely|@sinclair\/typebox(?:\/value)?)\2/g;
let rewritten = 0;
for (const top of ['src', 'test']) {
  for await (const file of jsFiles(join(dist, top))) {
    const text = await readFile(file, 'utf8');
    if (!pattern.test(text)) continue;
    pattern.lastIndex = 0;
    const out = text.replace(pattern, (_m, head, quote, spec) => {
      let rel = relative(dirname(file), join(vendor, `${specifiers.get(spec)}.js`)).split(sep).join('/');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return `${head}${quote}${rel}${quote}`;
    });
    await writeFile(file, out);
    rewritten++;
  }
}
process.stdout.write(`vendor-bundles: ${Object.keys(BUNDLES).join(', ')} in dist/vendor; ${rewritten} files point at them\n`);
