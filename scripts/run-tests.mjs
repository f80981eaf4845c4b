#!/usr/bin/env node
// Runs the compiled node:test files: all of them, or only the suites named on the command line
// (unit, api, e2e, ...). Node 20's --test takes no globs, so the file list is built here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const only = process.argv.slice(2);

function collect(dir) {
  const out = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...collect(full));
    else if (entry.endsWith('.test.js')) out.push(full);
  }
  return out;
}

const files = collect(root).filter((f) => only.length === 0 || only.some((s) => f.startsWith(join(root, s) + '/')));
if (files.length === 0) {
  console.error(`no test files found under ${root}${only.length ? ` for ${only.join(', ')}` : ''}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit' });
if (result.signal) console.error(`the test runner was killed by ${result.signal} before it finished`);
else if (result.error) console.error(`the test runner could not run: ${result.error.message}`);
process.exit(result.status ?? 1);
