// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function and by file.
//   node bench/prof-summary.mjs FILE.cpuprofile [TOP]
import fs from 'node:fs';

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
const deltas = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const byFn = new Map();
const byFile = new Map();
for (const [id, us] of selfUs) {
  const { callFrame: f } = byId.get(id);
  const short = f.url ? f.url.replace(/^.*\/node_modules\//, 'nm:').replace(/^file:\/\/.*\/dist\//, 'dist/') : '';
  const fn = `${f.functionName || '(anonymous)'} ${short}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  const where = short ? short.replace(/^nm:([^/]+(?:\/[^/]+)?)\/.*$/, 'nm:$1') : f.functionName.startsWith('(') ? f.functionName : '(native/node internals)';
  byFile.set(where, (byFile.get(where) ?? 0) + us);
}
const show = (title, m) => {
  console.log(`\n${title} (total ${(total / 1e6).toFixed(2)} s sampled)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
show('self time by function', byFn);
show('self time by file / package', byFile);
