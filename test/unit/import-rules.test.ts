// DESIGN.md's import rules, enforced on the real import graph of src/ (every static, type-only,
// re-export and dynamic import of every .ts file).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SRC = join(ROOT, 'src');

interface Edge {
  /** Importing file, relative to the project root with '/' separators (src/registry/x.ts). */
  from: string;
  /** Imported file, same form. */
  to: string;
  specifier: string;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...tsFiles(full));
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

const rel = (full: string) => relative(ROOT, full).split(sep).join('/');

/** Module specifiers of one source text: imports, `import type`, `export ... from`, `import()`. */
export function specifiersOf(text: string): string[] {
  // Comments out first (keeping '://' in strings), then the two shapes an import can take.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const re = /\b(?:import|export)\s+(?:[\w*{}\s,$]+?\s+from\s*)?['"]([^'"\n]+)['"]|\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g;
  return [...code.matchAll(re)].map((m) => (m[1] ?? m[2])!);
}

/** The .ts file a relative specifier (written with .js, as NodeNext requires) refers to. */
function resolveSpecifier(fromFile: string, specifier: string): string {
  const target = resolve(dirname(fromFile), specifier);
  for (const candidate of [target.replace(/\.js$/, '.ts'), `${target}.ts`, join(target, 'index.ts'), target]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return target.replace(/\.js$/, '.ts');
}

function importGraph(): Edge[] {
  const edges: Edge[] = [];
  for (const file of tsFiles(SRC)) {
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue; // node: builtins and packages are not internal
      edges.push({ from: rel(file), to: rel(resolveSpecifier(file, specifier)), specifier });
    }
  }
  return edges;
}

const under = (path: string, area: string) => path.startsWith(`src/${area}/`) || path === `src/${area}.ts`;

function violations(edges: Edge[], from: (p: string) => boolean, allowed: (to: string) => boolean): string[] {
  return edges.filter((e) => from(e.from) && !allowed(e.to)).map((e) => `${e.from} imports ${e.to} ('${e.specifier}')`);
}

describe('import rules (DESIGN.md)', () => {
  let edges: Edge[];
  before(() => {
    edges = importGraph();
  });

  it('reads the import graph: every relative import resolves to a source file', () => {
    assert.ok(edges.length > 50, `only ${edges.length} internal imports found; the parser is missing some`);
    const dangling = edges.filter((e) => !existsSync(join(ROOT, e.to))).map((e) => `${e.from}: '${e.specifier}'`);
    assert.deepEqual(dangling, []);
    for (const area of ['oci', 'errors', 'storage', 'registry', 'http', 'cli', 'config']) {
      assert.ok(edges.some((e) => under(e.from, area)), `no imports read from src/${area}`);
    }
  });

  it('the reader sees every form of import', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "import {\n  c,\n  d,\n} from './c.js';",
      "export { e } from './e.js';",
      "export * from './f.js';",
      "import './side-effect.js';",
      "const g = await import('./g.js');",
      "import { readFile } from 'node:fs/promises';",
      "// import { commented } from './not-really.js';",
    ].join('\n');
    assert.deepEqual(specifiersOf(text), ['./a.js', '../b.js', './c.js', './e.js', './f.js', './side-effect.js', './g.js', 'node:fs/promises']);
  });

  it('src/oci imports nothing internal outside src/oci', () => {
    assert.deepEqual(violations(edges, (p) => under(p, 'oci'), (to) => under(to, 'oci')), []);
  });

  it('src/errors imports nothing internal outside src/errors (not even src/oci)', () => {
    assert.deepEqual(violations(edges, (p) => under(p, 'errors'), (to) => under(to, 'errors')), []);
  });

  it('src/storage imports only src/storage, src/errors and src/net', () => {
    assert.deepEqual(violations(edges, (p) => under(p, 'storage'), (to) => under(to, 'storage') || under(to, 'errors') || under(to, 'net')), []);
  });

  it('src/net (addresses and forwarding headers) imports nothing internal outside src/net', () => {
    assert.deepEqual(violations(edges, (p) => under(p, 'net'), (to) => under(to, 'net')), []);
  });

  it('src/registry imports only oci, errors, registry and the storage contract, never a concrete driver', () => {
    // The contract, plus the optional capabilities the core finds by type guard (redirects and
    // the chunk minimum for blobs/uploads, atomic create for the GC lock).
    const contract = new Set([
      'src/storage/driver.ts', 'src/storage/checked-driver.ts', 'src/storage/middleware/capabilities.ts', 'src/storage/exclusive-create.ts',
    ]);
    const allowed = (to: string) => under(to, 'oci') || under(to, 'errors') || under(to, 'registry') || contract.has(to);
    assert.deepEqual(violations(edges, (p) => under(p, 'registry'), allowed), []);
  });

  it('src/client and src/transport import only oci, errors, client and transport (never registry, storage or http)', () => {
    const allowed = (to: string) => under(to, 'oci') || under(to, 'errors') || under(to, 'client') || under(to, 'transport');
    assert.deepEqual(violations(edges, (p) => under(p, 'client') || under(p, 'transport'), allowed), []);
    assert.deepEqual(violations(edges, (p) => under(p, 'client'), (to) => !under(to, 'transport')), []);
  });

  it('the core is closed: nothing outside src/registry imports its private internals', () => {
    // Layout, link files, storage-error translation and the maintenance walk: only the core's
    // services may know where things live, so every write keeps the listing index in step.
    // (storage-listing.ts stays public: the metadata index is rebuilt and checked from it.)
    const internals = new Set(['layout', 'links', 'storage-errors', 'maintenance-walk'].map((f) => `src/registry/${f}.ts`));
    const outside = edges.filter((e) => internals.has(e.to) && !under(e.from, 'registry'));
    assert.deepEqual(outside.map((e) => `${e.from} imports ${e.to}`), []);
  });

  it('the core is closed: Registry has no driver member, and no file outside src/registry or src/storage reads one off it', () => {
    const hasDriver: 'driver' extends keyof Registry ? true : false = false;
    assert.equal(hasDriver, false);
    assert.equal(Object.hasOwn(new Registry(new MemoryDriver()), 'driver'), false);
    const reaching: string[] = [];
    for (const file of tsFiles(SRC)) {
      const path = rel(file);
      if (under(path, 'registry') || under(path, 'storage')) continue;
      const code = readFileSync(file, 'utf8');
      for (const m of code.matchAll(/\b(?:registry|base|core|ctx\.registry|this\.#registry)\.driver\b/g)) reaching.push(`${path}: ${m[0]}`);
    }
    assert.deepEqual(reaching, []);
  });

  it('tag policy lives in src/policy and the core depends on none of it (only its TagGuard hook)', () => {
    assert.deepEqual(violations(edges, (p) => under(p, 'registry'), (to) => !under(to, 'policy')), []);
    const gcPolicy = ['retention', 'immutable-tags', 'patterns', 'policies', 'retention-audit'].filter((f) => existsSync(join(SRC, 'gc', `${f}.ts`)));
    assert.deepEqual(gcPolicy, []);
  });

  // The one exception to "config imports nothing internal": each storage driver owns its schema
  // (src/storage/drivers/<name>/schema.ts) and registers in one map, so that a new driver is one
  // folder plus one map entry; the configuration schema builds `storage` from that map. Schema
  // files import only typebox, and the map statically imports only them and the contract's
  // types (drivers themselves load by dynamic import), so config still pulls in no behaviour.
  it('src/config imports nothing internal but the storage drivers\' schema files and their map', () => {
    const schemaFile = (to: string) => /^src\/storage\/drivers\/[a-z0-9-]+\/schema\.ts$/.test(to);
    const driverMap = 'src/storage/drivers/registry.ts';
    const allowed = (to: string) => under(to, 'config') || schemaFile(to) || to === driverMap;
    assert.deepEqual(violations(edges, (p) => under(p, 'config'), allowed), []);
    assert.deepEqual(violations(edges, schemaFile, () => false), [], 'schema files import only typebox');
    const mapText = readFileSync(join(ROOT, driverMap), 'utf8');
    const staticImports = specifiersOf(mapText.replace(/\bimport\s*\(\s*['"][^'"]+['"]\s*\)/g, ''))
      .filter((s) => s.startsWith('.'));
    const typeOnly = new Set([...mapText.matchAll(/import\s+type\s+[^;]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!));
    const behaviour = staticImports.filter((s) => !/^\.\/[a-z0-9-]+\/schema\.js$/.test(s) && !typeOnly.has(s));
    assert.deepEqual(behaviour, [], 'the driver map imports drivers only dynamically');
  });

  it('src/http is imported only by src/server and src/cli (and by itself)', () => {
    const outside = edges.filter((e) => under(e.to, 'http') && !under(e.from, 'http') && !under(e.from, 'server') && !under(e.from, 'cli'));
    assert.deepEqual(outside.map((e) => `${e.from} imports ${e.to}`), []);
  });

  it('has no file circles (type-only imports included)', () => {
    const next = new Map<string, string[]>();
    for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      state.set(file, 'open');
      for (const to of next.get(file) ?? []) {
        if (state.get(to) === 'open') circles.push([...path.slice(path.indexOf(to)), to].join(' -> '));
        else if (!state.has(to)) visit(to, [...path, to]);
      }
      state.set(file, 'done');
    };
    for (const file of [...next.keys()].sort()) if (!state.has(file)) visit(file, [file]);
    assert.deepEqual(circles, []);
  });
});
