import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DriftWindows } from './drift-window.ts';
import { recordsToTable } from '../core/data/records.ts';
import type { BundleProfile } from '../core/model/bundle.ts';
import type { FeatureSpec } from '../core/model/features.ts';
import { histogram } from '../core/model/profile.ts';

const profile: BundleProfile = {
  version: 1,
  rows: 100,
  features: {
    distance: {
      kind: 'numeric',
      count: 100,
      missing: 0,
      mean: 500,
      std: 100,
      min: 100,
      max: 900,
      quantiles: [],
      histogram: { edges: [100, 400, 600, 900], counts: [30, 40, 30] },
    },
    origin: {
      kind: 'categorical',
      count: 100,
      missing: 0,
      distinct: 3,
      top: [
        { value: 'ATL', count: 60 },
        { value: 'ORD', count: 30 },
      ],
      other: 10,
    },
  },
  predictions: {
    kind: 'numeric',
    count: 100,
    missing: 0,
    mean: 0.5,
    std: 0.1,
    min: 0,
    max: 1,
    quantiles: [],
    histogram: { edges: [0, 0.5, 1], counts: [50, 50] },
  },
};
const spec = {
  version: 1,
  features: [{ kind: 'categorical', name: 'origin', vocabulary: ['<OOV>', 'ATL', 'ORD', 'DFW'], min_frequency: 1 }],
  target: { column: 'delay', type: 'classification' },
  time_column: 'date',
} as FeatureSpec;
const schema = {
  distance: { type: 'number' as const, required: false },
  origin: { type: 'category' as const, required: false },
};

test('windows bin against the reference, evict the oldest, and count unseen and out-of-range values', () => {
  const w = new DriftWindows(3, profile, spec);
  const add = (records: object[], preds: (number | null)[]) => w.add(recordsToTable(records, schema).table, preds);
  add(
    [
      { distance: 150, origin: 'ATL' },
      { distance: 2000, origin: 'DFW' },
      { distance: 500, origin: 'QQQ' },
    ],
    [0.2, 0.7, 0.9],
  );
  let s = Object.fromEntries(w.snapshot().map((x) => [x.name, x]));
  assert.deepEqual(s.distance.current, [1, 1, 1]); // 2000 clamps into the last bin
  assert.equal(s.distance.outOfRangeTotal, 1);
  assert.deepEqual(s.origin.labels, ['ATL', 'ORD', 'other', 'unseen']);
  assert.deepEqual(s.origin.current, [1, 0, 1, 1]); // DFW is known but not listed → other; QQQ unseen
  assert.equal(s.origin.unseenTotal, 1);
  assert.deepEqual(s.prediction.current, [1, 2]);
  // A rejected request (null prediction) is not added; the 4th valid row evicts the 1st.
  add([{ distance: 450 }, { distance: 800, origin: 'ORD' }], [null, 0.6]);
  s = Object.fromEntries(w.snapshot().map((x) => [x.name, x]));
  assert.equal(w.length, 3);
  assert.deepEqual(s.distance.current, [0, 1, 2]);
  assert.deepEqual(s.origin.current, [0, 1, 1, 1]);
  assert.deepEqual(s.origin.reference, [60, 30, 10, 0]);
});

test('numeric windows bin on the edges like the reference histogram, clamping out-of-range values into the end bins', () => {
  const w = new DriftWindows(8, profile, spec);
  // distance edges 100, 400, 600, 900: bins [100, 400), [400, 600), [600, 900]; prediction edges 0, 0.5, 1
  const distances = [100, 400, 600, 900, 399.5, 50, 1000, 599];
  w.add(
    recordsToTable(
      distances.map((distance) => ({ distance })),
      schema,
    ).table,
    [0, 0.5, 1, 0.4999, 0.5, 0.5, 0.5, 0.5],
  );
  const s = Object.fromEntries(w.snapshot().map((x) => [x.name, x]));
  assert.deepEqual(s.distance.current, [3, 2, 3]); // 100, 399.5, 50 | 400, 599 | 600, 900, 1000
  assert.deepEqual(s.distance.current, histogram(distances, [100, 400, 600, 900]));
  assert.equal(s.distance.outOfRangeTotal, 2);
  assert.deepEqual(s.prediction.current, [2, 6]);
});

test('a multi-class model gets one prediction track per class, binning that class probability', () => {
  const classProfile = (counts: number[]) => ({ ...profile.predictions!, histogram: { edges: [0, 0.5, 1], counts } });
  const multi: BundleProfile = {
    ...profile,
    predictions: undefined,
    prediction_classes: { a: classProfile([80, 20]), b: classProfile([60, 40]), c: classProfile([60, 40]) },
  };
  const multiSpec = {
    ...spec,
    target: { column: 'kind', type: 'classification', classes: ['a', 'b', 'c'] },
  } as FeatureSpec;
  const w = new DriftWindows(4, multi, multiSpec);
  w.add(
    recordsToTable([{ distance: 150 }, { distance: 500 }, { distance: 800 }], schema).table,
    [0, 2, null],
    [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], null],
  );
  const s = Object.fromEntries(w.snapshot().map((x) => [x.name, x]));
  assert.equal(s.prediction, undefined);
  assert.deepEqual(s['prediction.a'].current, [1, 1]);
  assert.deepEqual(s['prediction.b'].current, [2, 0]);
  assert.deepEqual(s['prediction.c'].current, [1, 1]);
  assert.deepEqual(s['prediction.a'].reference, [80, 20]);
});
