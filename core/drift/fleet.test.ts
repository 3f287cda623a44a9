import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  binArea,
  fleetDrift,
  fleetDriftScore,
  isPredictionTrack,
  PREDICTION_TRACK_REGEX,
  sharesBelow,
  type FleetDriftTrack,
} from './fleet.ts';
import { jensenShannonDistance } from './divergence.ts';
import { normaliseByStd, wassersteinBinned } from './wasserstein.ts';
import { resolveDriftParams } from './detect.ts';

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}
const numeric = (reference: number[], served: number[], edges: number[], std = 1): FleetDriftTrack => ({
  feature: 'x',
  kind: 'numeric',
  reference,
  served,
  edges,
  std,
});

test('numeric by hand: U[0,1] against U[0,2] on edges 0,1,2 is W1 = 0.5 (0.25 per bin); /std', () => {
  assert.equal(fleetDriftScore(numeric([1, 1], [1, 0], [0, 1, 2])), 0.5);
  assert.equal(fleetDriftScore(numeric([1, 1], [1, 0], [0, 1, 2], 2)), 0.25);
  // a gap changing sign inside a bin: from −0.5 to 0.5 the area is (0.25 + 0.25 − 0.25 + 0.25) / 2 = 0.25
  assert.equal(binArea(-0.5, 0.5), 0.25);
  assert.ok(Math.abs(binArea(0.2, 0.4) - 0.3) < 1e-15, 'same sign: the mean of the two gaps');
  assert.equal(binArea(0, 0), 0);
  assert.deepEqual(sharesBelow([1, 3, 0, 4]), [0, 0.125, 0.5, 0.5]);
});

test('categorical by hand: disjoint distributions are Jensen–Shannon distance 1', () => {
  assert.equal(fleetDriftScore({ feature: 'c', kind: 'categorical', reference: [5, 0], served: [0, 3] }), 1);
});

test('identical distributions score 0 whatever the totals; no served values is no score', () => {
  assert.equal(fleetDriftScore(numeric([2, 6, 2], [30, 90, 30], [0, 1, 5, 9], 2.5)), 0);
  assert.equal(fleetDriftScore({ feature: 'c', kind: 'categorical', reference: [3, 1, 0], served: [300, 100, 0] }), 0);
  assert.equal(fleetDriftScore(numeric([2, 6, 2], [0, 0, 0], [0, 1, 5, 9])), null);
});

test('the fleet numeric score is the API window statistic (normalised binned Wasserstein) on the same bins', () => {
  const next = rng(3);
  for (let trial = 0; trial < 30; trial++) {
    const k = 2 + Math.floor(next() * 15);
    const edges = [0];
    for (let b = 0; b < k; b++) edges.push(edges[b] + (trial % 5 === 0 && b === 1 ? 0 : next() * 10));
    const ref = Array.from({ length: k }, () => Math.floor(next() * 100));
    const cur = Array.from({ length: k }, () => Math.floor(next() * 100));
    ref[0]++;
    cur[k - 1]++;
    const std = 0.5 + next() * 5;
    const pad = (v: number[]) => [0, ...v, 0];
    const w = normaliseByStd(wassersteinBinned(edges, pad(ref), pad(cur)), std);
    assert.ok(w.ok);
    const s = fleetDriftScore(numeric(ref, cur, edges, std))!;
    assert.ok(Math.abs(s - w.statistic) < 1e-12, `trial ${trial}: ${s} vs ${w.statistic}`);
    const js = jensenShannonDistance(ref, cur);
    assert.ok(
      js.ok && fleetDriftScore({ feature: 'c', kind: 'categorical', reference: ref, served: cur }) === js.statistic,
    );
  }
});

test('verdicts: thresholds of params.yaml, no verdict at or below size_cutoff values, dataset share over inputs only', () => {
  const p = resolveDriftParams();
  const shifted = (n: number): FleetDriftTrack => numeric([1, 1], [n, 0], [0, 1, 2]); // score 0.5 ≥ 0.1
  const steady = (n: number): FleetDriftTrack => ({
    feature: 'c',
    kind: 'categorical',
    reference: [1, 1],
    served: [n / 2, n / 2],
  });
  const few = fleetDrift([shifted(p.size_cutoff), steady(p.size_cutoff)], p);
  assert.deepEqual(
    few.features.map((f) => [f.method, f.detected, f.threshold]),
    [
      ['wasserstein', null, p.wasserstein_threshold],
      ['jensen_shannon', null, p.jensen_shannon_threshold],
    ],
  );
  assert.equal(few.dataset_drift, null);
  const many = fleetDrift(
    [shifted(p.size_cutoff + 1), steady(p.size_cutoff + 2), { ...shifted(5000), feature: 'prediction' }],
    p,
  );
  assert.deepEqual(
    many.features.map((f) => f.detected),
    [true, false, true],
  );
  assert.equal(many.drift_share, 0.5, 'the prediction is not an input feature');
  assert.equal(many.dataset_drift, true, 'share 0.5 reaches dataset_drift_share 0.5');
});

test('a multi-class model’s output tracks (prediction.<class>) stay out of the inputs’ drift share, as the prediction does', () => {
  const p = resolveDriftParams();
  const steady: FleetDriftTrack = { feature: 'c', kind: 'categorical', reference: [1, 1], served: [2500, 2500] };
  const late = { ...numeric([1, 1], [5000, 0], [0, 0.5, 1]), feature: 'prediction.late' };
  const d = fleetDrift([steady, late], p);
  assert.deepEqual(
    d.features.map((f) => f.detected),
    [false, true],
  );
  assert.equal(d.drift_share, 0, 'a drifting class probability is not a drifting input');
  assert.equal(d.dataset_drift, false);
  for (const name of ['prediction', 'prediction.late', 'prediction.a.b'])
    assert.ok(isPredictionTrack(name) && new RegExp(`^(?:${PREDICTION_TRACK_REGEX})$`).test(name), name);
  for (const name of ['predictions', 'prediction_score', 'date.hour', 'origin'])
    assert.ok(!isPredictionTrack(name) && !new RegExp(`^(?:${PREDICTION_TRACK_REGEX})$`).test(name), name);
});
