import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeatureSpecFitter, fitFeatureSpec, encodeFeatures, type FitParams } from './features.ts';
import { ProfileAccumulator, profileTable } from './profile.ts';
import { RecurringKeys, recurringKeys } from './cross-recurrence.ts';
import { ValueCounts } from './value-counts.ts';
import { makeTable, sliceRows, type Table } from '../data/table.ts';

/** A seeded LCG, so every run fits the same table. */
function lcg(seed: number) {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Flights-like rows in time order: repeated distances, a few missing, airports with a long tail. */
function flights(n: number, seed: number): Table {
  const rand = lcg(seed);
  const airports = Array.from({ length: 40 }, (_, i) => `A${String(i).padStart(2, '0')}`);
  const pick = () => Math.floor(airports.length * rand() ** 2);
  const start = Date.UTC(2001, 0, 1);
  return makeTable({
    date: {
      type: 'timestamp',
      values: Float64Array.from(
        { length: n },
        (_, i) => start + Math.floor((i * 40 * 86_400_000) / n / 60_000) * 60_000,
      ),
    },
    distance: {
      type: 'number',
      values: Float64Array.from({ length: n }, () => (rand() < 0.02 ? NaN : 100 + Math.round(rand() * 300) * 7.3)),
    },
    origin: {
      type: 'string',
      codes: Int32Array.from({ length: n }, () => (rand() < 0.01 ? -1 : pick())),
      dict: airports,
    },
    destination: { type: 'string', codes: Int32Array.from({ length: n }, pick), dict: airports },
    delay: { type: 'number', values: Float64Array.from({ length: n }, () => Math.round(rand() * 120 - 30)) },
  });
}

const params = (task: FitParams['task'], missing: 'median' | 'mean' = 'median') =>
  ({
    data: { time_column: 'date' },
    task,
    features: {
      date: { kind: 'datetime', parts: ['hour', 'day_of_week', 'month', 'minute_of_day'], min_cycles: 2 },
      distance: { kind: 'numeric', transform: 'log', missing },
      origin: { kind: 'categorical', min_frequency: 5, max_categories: 25 },
      destination: { kind: 'categorical', min_frequency: 5, max_categories: 300 },
      route: { kind: 'cross', columns: ['origin', 'destination'], min_frequency: 3 },
      origin_month: { kind: 'cross', columns: ['origin', 'date.month'], min_frequency: 1 },
      flight: {
        kind: 'cross',
        columns: ['origin', 'destination', 'date.hour'],
        min_frequency: 2,
        min_days: 3,
        max_categories: 500,
      },
    },
  }) as unknown as FitParams;

function chunksOf(t: Table, sizes: number[]): Table[] {
  const out: Table[] = [];
  for (let at = 0, k = 0; at < t.length; k++) {
    const size = sizes[k % sizes.length];
    out.push(sliceRows(t, at, Math.min(t.length, at + size)));
    at += size;
  }
  return out;
}

test('the spec and profile fitted a chunk at a time equal the whole-table fit, to the byte', () => {
  const table = flights(6000, 3);
  for (const [task, missing] of [
    [{ type: 'classification', target: 'delay', positive_above: 15 }, 'median'],
    [{ type: 'regression', target: 'delay' }, 'mean'],
    [{ type: 'classification', target: 'origin', classes: 'auto' }, 'median'],
  ] as const) {
    const p = params(task, missing);
    const whole = fitFeatureSpec(table, p);
    for (const sizes of [[1000], [1, 999, 37], [5999, 1]]) {
      const parts = chunksOf(table, sizes);
      const fitter = new FeatureSpecFitter(p);
      for (const part of parts) fitter.addBase(part);
      const base = fitter.baseSpec();
      const profiler = new ProfileAccumulator(base, { bins: 20, topCategories: 10 });
      for (const part of parts) {
        fitter.addCrosses(part, encodeFeatures(base, part));
        profiler.add(part);
      }
      const spec = fitter.finish();
      assert.equal(JSON.stringify(spec), JSON.stringify(whole), `${task.type} ${missing}, chunks ${sizes.join(',')}`);
      assert.equal(
        JSON.stringify(profiler.finish()),
        JSON.stringify(profileTable(table, whole, { bins: 20, topCategories: 10 })),
      );
    }
    // The fit means something: month is left out over 40 days and the crosses kept some keys.
    assert.deepEqual(
      whole.dropped?.map((d) => d.feature),
      ['date.month', 'origin_month'],
    );
    assert.ok(whole.features.some((f) => f.kind === 'cross' && f.name === 'flight' && f.vocabulary.length > 1));
  }
});

test('recurring keys over chunks equal the whole pass, and a key stops holding days at min_days', () => {
  const rand = lcg(11);
  const n = 5000;
  const keys = Float64Array.from({ length: n }, () => (rand() < 0.05 ? -1 : Math.floor(rand() * 300)));
  const times = Float64Array.from({ length: n }, () =>
    rand() < 0.01 ? NaN : Math.floor(rand() * 30) * 86_400_000 + 3_600_000,
  );
  for (const minDays of [1, 3, 12]) {
    const acc = new RecurringKeys(minDays);
    for (let at = 0; at < n; at += 333) acc.add(keys.subarray(at, at + 333), times.subarray(at, at + 333));
    assert.deepEqual(
      [...acc.result()].sort((a, b) => a - b),
      [...recurringKeys(keys, times, minDays)].sort((a, b) => a - b),
    );
  }
  assert.ok(recurringKeys(keys, times, 12).size > 0 && recurringKeys(keys, times, 12).size < 300);
});

test('value counts give the sorted column: ranks, quantile inputs and sums in ascending order', () => {
  const values = [5, 1, NaN, 5, 2, Infinity, 1, 5];
  const sorted = new ValueCounts().add(values).sorted();
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((r) => sorted.at(r)),
    [1, 1, 2, 5, 5, 5],
  );
  assert.equal(sorted.n, 6);
  assert.deepEqual(sorted.sortedSums(), { sum: 19, sumSq: 81 });
  assert.equal(new ValueCounts().add(values).missing, 2);
});
