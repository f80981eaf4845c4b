// `berth serve` holds V8's young generation at its initial size while it starts and lets it grow
// once it answers (src/cli/young-generation.ts). This checks, on the Node that runs the suite,
// that V8 still reads the growth factor at run time: if it stopped, the hold would silently
// do nothing (idle memory, issue 22).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { holdYoungGeneration } from '../../src/cli/young-generation.js';

const newSpaceMiB = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size / 2 ** 20;

/** Allocates objects that survive, as a start's module loading does. */
function retain(into: unknown[], n: number): void {
  for (let i = 0; i < n; i++) into.push({ i, s: `x${i}` });
}

describe('the young generation during a start', () => {
  it('does not grow while held and grows again once released', () => {
    const kept: unknown[] = [];
    const release = holdYoungGeneration();
    let held: number;
    try {
      retain(kept, 1_000_000);
      held = newSpaceMiB();
      // Its initial size (1 MiB per semi-space; V8 reports 1 or 2); unheld, this grows to 16 or more.
      assert.ok(held <= 2, `new space grew to ${held} MiB while held`);
    } finally {
      release();
    }
    retain(kept, 1_000_000);
    assert.ok(newSpaceMiB() > held, `new space stayed at ${newSpaceMiB()} MiB after the release`);
  });
});
