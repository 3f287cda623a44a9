import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveSharing, KEEP, PROBE } from './engine-adaptive.ts';

/** Run `passes` passes of `kind`, each timed by `ms(shared)`; returns how many were shared. */
function run(a: AdaptiveSharing, kind: number, passes: number, ms: (shared: boolean) => number): number {
  let sharedCount = 0;
  for (let i = 0; i < passes; i++) {
    const shared = a.shares(kind);
    if (shared) sharedCount++;
    a.record(kind, ms(shared), 1000);
  }
  return sharedCount;
}

test('adaptive sharing probes each way, keeps the faster per kind of pass, and probes again', () => {
  const a = new AdaptiveSharing();
  // Kind 1: sharing is slower (a busy machine); kind 2: sharing is faster.
  const slowShared = (shared: boolean) => (shared ? 5 : 2);
  const fastShared = (shared: boolean) => (shared ? 1 : 2);
  assert.equal(run(a, 1, PROBE, slowShared), PROBE, 'first probes shared');
  assert.equal(run(a, 1, PROBE, slowShared), 0, 'then probes on the calling thread');
  assert.equal(run(a, 1, KEEP, slowShared), 0, 'then the faster way, the calling thread');
  assert.equal(run(a, 2, 2 * PROBE, fastShared), PROBE, 'another kind probes on its own');
  assert.equal(run(a, 2, KEEP, fastShared), KEEP, 'and keeps sharing, its faster way');
  assert.equal(run(a, 1, PROBE, fastShared), PROBE, 'after KEEP passes kind 1 probes shared again');
  assert.equal(run(a, 1, PROBE, fastShared), 0);
  assert.equal(run(a, 1, KEEP, fastShared), KEEP, 'and now finds sharing faster');
});
