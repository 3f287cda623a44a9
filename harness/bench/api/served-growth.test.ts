import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCheckpoints, servedGrowth } from './served-growth.ts';

test('served growth: the real/trivial ratio and the batch p50 are compared first → last checkpoint', () => {
  // Figures of the O(capacity) prediction-log eviction: ratio 10,445/10,187 → 2,941/10,464, batch 1.2 → 24.6 ms.
  const old = servedGrowth([
    { served: 0, real_rps: 10_445, trivial_rps: 10_187, batch100_p50_ms: 1.2 },
    { served: 200_000, real_rps: 8_838, trivial_rps: 13_568, batch100_p50_ms: 4.8 },
    { served: 500_000, real_rps: 2_941, trivial_rps: 10_464, batch100_p50_ms: 24.6 },
  ]);
  // (10445/10187) / (2941/10464) = 1.02533 / 0.28106 = 3.648
  assert.equal(old.slowdown.value, 3.648);
  assert.equal(old.batch_growth.value, 20.5);
  assert.deepEqual(
    old.checkpoints.map((c) => c.ratio),
    [1.025, 0.651, 0.281],
  );
  assert.equal(old.pass, false);

  // A neighbour halving both servers' throughput is not a slowdown of the API.
  const noisy = servedGrowth([
    { served: 0, real_rps: 12_000, trivial_rps: 15_000, batch100_p50_ms: 1.3 },
    { served: 500_000, real_rps: 6_000, trivial_rps: 7_500, batch100_p50_ms: 1.5 },
  ]);
  assert.equal(noisy.slowdown.value, 1);
  assert.equal(noisy.batch_growth.value, 1.154);
  assert.equal(noisy.pass, true);
});

test('served growth: a missing batch figure or a dead trivial server fails instead of passing', () => {
  const v = servedGrowth([
    { served: 0, real_rps: 10_000, trivial_rps: 0, batch100_p50_ms: null },
    { served: 500_000, real_rps: 10_000, trivial_rps: 12_000, batch100_p50_ms: 1.4 },
  ]);
  assert.equal(v.slowdown.value, null);
  assert.equal(v.batch_growth.value, null);
  assert.equal(v.pass, false);
  assert.throws(
    () => servedGrowth([{ served: 0, real_rps: 1, trivial_rps: 1, batch100_p50_ms: 1 }]),
    /at least 2 checkpoints/,
  );
});

test('BENCH_CHECKPOINTS: ascending whole numbers, at least two; anything else is named', () => {
  assert.deepEqual(parseCheckpoints(undefined, [0, 200_000]), [0, 200_000]);
  assert.deepEqual(parseCheckpoints(' 0, 50000,300000 ', [1, 2]), [0, 50_000, 300_000]);
  assert.throws(() => parseCheckpoints('0,500000,200000', [0, 1]), /entry 3 .*ascending/);
  assert.throws(() => parseCheckpoints('0,abc', [0, 1]), /entry 2/);
  assert.throws(() => parseCheckpoints('100000', [0, 1]), /at least 2/);
});
