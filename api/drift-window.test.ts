import { test } from 'node:test';
import { datetimeSpec } from '../harness/testing/core/datetime-spec.ts';
import assert from 'node:assert/strict';
import { DriftWindows, referenceStds, type WindowSnapshot } from './drift-window.ts';
import { DEFAULT_DRIFT, judge } from './drift-monitor.ts';
import { recordsToTable } from '../core/data/records.ts';
import type { BundleProfile } from '../core/model/bundle.ts';
import { datetimePart, type FeatureSpec } from '../core/model/features.ts';
import { histogram, profileTable } from '../core/model/profile.ts';
import type { Table } from '../core/data/table.ts';

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

test('a minute of day is profiled as numbers: a window drawn like the training rows does not drift, one three hours later does', () => {
  let s = 7;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  // Departures between 06:00 and 22:00, busiest around 08:00 and 17:00, on random days of 2001.
  const minute = () => {
    const peak = rand() < 0.5 ? 480 : 1020;
    const m = rand() < 0.6 ? peak + (rand() + rand() + rand() - 1.5) * 120 : 360 + rand() * 960;
    return Math.max(0, Math.min(1439, Math.floor(m)));
  };
  const timestamps = (n: number, shift = 0) =>
    Float64Array.from({ length: n }, () => {
      const day = Date.UTC(2001, 0, 1) + Math.floor(rand() * 365) * 86_400_000;
      return day + ((minute() + shift) % 1440) * 60_000;
    });
  const dateSpec = datetimeSpec(['hour', 'minute_of_day']);
  const train: Table = { length: 100_000, columns: { date: { type: 'timestamp', values: timestamps(100_000) } } };
  const reference = profileTable(train, dateSpec, { bins: 20, topCategories: 50 });
  const minutes = reference.features['date.minute_of_day'];
  assert.equal(minutes.kind, 'numeric');
  assert.equal(reference.features['date.hour'].kind, 'categorical');
  assert.ok(
    minutes.kind === 'numeric' && minutes.min >= 0 && minutes.max <= 1439 && minutes.histogram.edges.length > 10,
  );
  const verdictFor = (shift: number) => {
    const w = new DriftWindows(5000, { ...reference }, dateSpec);
    const window: Table = { length: 5000, columns: { date: { type: 'timestamp', values: timestamps(5000, shift) } } };
    w.add(window, new Array<number>(5000).fill(0.5));
    const snap = w.snapshot().find((t) => t.name === 'date.minute_of_day')!;
    assert.equal(snap.n, 5000);
    return judge(snap, referenceStds(reference).get('date.minute_of_day'), DEFAULT_DRIFT);
  };
  const same = verdictFor(0);
  assert.equal(same.drifted, false, `same distribution: ${JSON.stringify(same)}`);
  const later = verdictFor(180);
  assert.equal(later.drifted, true, `three hours later: ${JSON.stringify(later)}`);
  // Why not one category per minute: 5,000 rows drawn like the training rows, over 1,440
  // categories, read as drift.
  const counts = new Map<string, number>();
  for (const t of train.columns.date.type === 'timestamp' ? train.columns.date.values : [])
    counts.set(
      String(datetimePart(t, 'minute_of_day')),
      (counts.get(String(datetimePart(t, 'minute_of_day'))) ?? 0) + 1,
    );
  const asCategories: WindowSnapshot = {
    name: 'date.minute_of_day',
    kind: 'categorical',
    labels: [],
    reference: [...counts.values()],
    current: (() => {
      const cur = new Map<string, number>();
      for (const t of timestamps(5000)) {
        const k = String(datetimePart(t, 'minute_of_day'));
        cur.set(k, (cur.get(k) ?? 0) + 1);
      }
      return [...counts.keys()].map((k) => cur.get(k) ?? 0);
    })(),
    n: 5000,
    missing: 0,
    unseenTotal: 0,
    outOfRangeTotal: 0,
  };
  assert.equal(judge(asCategories, undefined, DEFAULT_DRIFT).drifted, true);
});
