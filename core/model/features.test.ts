import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeFeatures,
  encodeTarget,
  fitFeatureSpec,
  OOV_INDEX,
  quantileSorted,
  type NumericFeature,
  type CategoricalFeature,
} from './features.ts';
import { makeTable } from '../data/table.ts';
import type { Params } from '../schemas/params.ts';

const params = {
  data: { source: 'x', format: 'auto', time_column: 'date' },
  task: { type: 'classification', target: 'delay', positive_above: 15 },
  features: {
    date: { kind: 'datetime', parts: ['hour', 'day_of_week', 'month'], min_cycles: 0 },
    distance: { kind: 'numeric', transform: 'standard', missing: 'median' },
    origin: { kind: 'categorical', min_frequency: 2, max_categories: 10 },
  },
} as unknown as Params;

const train = makeTable({
  // 2001-01-01 was a Monday.
  date: {
    type: 'timestamp',
    values: Float64Array.from([
      Date.UTC(2001, 0, 1, 7),
      Date.UTC(2001, 0, 2, 13),
      Date.UTC(2001, 1, 3, 23),
      Date.UTC(2001, 0, 1, 0),
    ]),
  },
  distance: { type: 'number', values: Float64Array.from([100, 200, 300, 400]) },
  origin: { type: 'string', codes: Int32Array.from([0, 0, 1, 2]), dict: ['ATL', 'LAX', 'ORD'] },
  delay: { type: 'number', values: Float64Array.from([16, 15, -3, 100]) },
});

test('numeric standardisation uses training mean and population std', () => {
  const spec = fitFeatureSpec(train, params);
  const d = spec.features.find((f) => f.name === 'distance') as NumericFeature;
  assert.equal(d.mean, 250);
  assert.ok(Math.abs(d.std - Math.sqrt(12500)) < 1e-9); // population variance of 100..400 = 12500
  assert.equal(d.fill, 250); // median of 100,200,300,400
  const enc = encodeFeatures(spec, train);
  assert.ok(Math.abs(enc.numeric[0] - (100 - 250) / Math.sqrt(12500)) < 1e-6);
});

test('vocabulary keeps categories with min_frequency, OOV bucket 0 takes rare, unseen and missing', () => {
  const spec = fitFeatureSpec(train, params);
  const o = spec.features.find((f) => f.name === 'origin') as CategoricalFeature;
  assert.deepEqual(o.vocabulary, ['<OOV>', 'ATL']);
  const serving = makeTable({
    date: { type: 'timestamp', values: Float64Array.from([NaN, Date.UTC(2001, 0, 1)]) },
    distance: { type: 'number', values: Float64Array.from([NaN, 150]) },
    origin: { type: 'string', codes: Int32Array.from([0, -1]), dict: ['SFO'] },
  });
  const enc = encodeFeatures(spec, serving);
  const origin = enc.categorical.find((c) => c.name === 'origin')!;
  assert.deepEqual(Array.from(origin.indices), [OOV_INDEX, OOV_INDEX]);
  assert.equal(enc.oov.origin, 1);
  assert.equal(enc.missing.origin, 1);
  assert.equal(enc.missing.distance, 1);
  assert.ok(
    Math.abs(enc.numeric[0] - 0) < 1e-9,
    'missing distance is filled with the median (=mean here), which encodes to 0',
  );
});

test('datetime parts: hour, day of week (Sunday=0), month (January=0)', () => {
  const spec = fitFeatureSpec(train, params);
  const enc = encodeFeatures(spec, train);
  const part = (n: string) => Array.from(enc.categorical.find((c) => c.name === n)!.indices);
  assert.deepEqual(part('date.hour'), [7, 13, 23, 0]);
  assert.deepEqual(part('date.day_of_week'), [1, 2, 6, 1]);
  assert.deepEqual(part('date.month'), [0, 0, 1, 0]);
  assert.equal(enc.categorical.find((c) => c.name === 'date.hour')!.cardinality, 24);
});

test('log transform is applied before standardising and fitting ignores other rows', () => {
  const p = {
    ...params,
    features: { distance: { kind: 'numeric', transform: 'log', missing: 'zero' } },
  } as unknown as Params;
  const spec = fitFeatureSpec(train, p);
  const d = spec.features[0] as NumericFeature;
  const logs = [100, 200, 300, 400].map((v) => Math.log1p(v));
  const mean = logs.reduce((a, b) => a + b) / 4;
  assert.ok(Math.abs(d.mean - mean) < 1e-12);
  assert.equal(d.fill, 0);
});

test('classification target is 1 only strictly above the threshold', () => {
  assert.deepEqual(
    Array.from(encodeTarget({ column: 'delay', type: 'classification', positive_above: 15 }, train.columns.delay)),
    [1, 0, 0, 1],
  );
  assert.deepEqual(
    Array.from(encodeTarget({ column: 'delay', type: 'regression' }, train.columns.delay)),
    [16, 15, -3, 100],
  );
});

test('quantiles interpolate linearly (numpy default)', () => {
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
  assert.ok(Number.isNaN(quantileSorted([], 0.5)));
});

test('feature crosses: vocabulary of frequent combinations; unseen, rare or OOV components go to bucket 0', () => {
  const rows = makeTable({
    date: { type: 'timestamp', values: Float64Array.from([7, 7, 7, 13, 13, 7].map((h) => Date.UTC(2001, 0, 1, h))) },
    distance: { type: 'number', values: Float64Array.from([1, 2, 3, 4, 5, 6]) },
    origin: { type: 'string', codes: Int32Array.from([0, 0, 1, 0, 1, 2]), dict: ['ATL', 'LAX', 'ORD'] },
    delay: { type: 'number', values: Float64Array.from([0, 0, 0, 0, 0, 0]) },
  });
  const p = {
    ...params,
    features: {
      date: { kind: 'datetime', parts: ['hour'], min_cycles: 0 },
      origin: { kind: 'categorical', min_frequency: 2, max_categories: 10 },
      origin_hour: { kind: 'cross', columns: ['origin', 'date.hour'], min_frequency: 2, max_categories: 10 },
    },
  } as unknown as Params;
  const spec = fitFeatureSpec(rows, p);
  const cross = spec.features.find((f) => f.name === 'origin_hour')!;
  // ATL|7 twice, ATL|13 once (rare), LAX|7 and LAX|13 once each; ORD is OOV as an origin.
  assert.deepEqual(cross.kind === 'cross' && cross.vocabulary, ['<OOV>', 'ATL|7']);
  const enc = encodeFeatures(spec, rows);
  const c = enc.categorical.at(-1)!;
  assert.equal(c.name, 'origin_hour');
  assert.equal(c.cardinality, 2);
  assert.deepEqual(Array.from(c.indices), [1, 1, 0, 0, 0, 0]);
  // Serving a one-row table computes the same index.
  const one = makeTable({
    date: { type: 'timestamp', values: Float64Array.from([Date.UTC(2005, 5, 5, 7)]) },
    distance: { type: 'number', values: Float64Array.from([1]) },
    origin: { type: 'string', codes: Int32Array.from([0]), dict: ['ATL'] },
  });
  assert.deepEqual(Array.from(encodeFeatures(spec, one).categorical.at(-1)!.indices), [1]);
  // Crosses a model does not read are left out when asked; everything else is encoded as before.
  const without = encodeFeatures(spec, rows, new Set(['origin', 'date.hour']));
  assert.deepEqual(
    without.categorical.map((x) => x.name),
    enc.categorical.map((x) => x.name).filter((name) => name !== 'origin_hour'),
  );
  assert.deepEqual({ ...without, categorical: [] }, { ...enc, categorical: [] });
  assert.deepEqual(without.categorical, enc.categorical.slice(0, -1));
  assert.deepEqual(encodeFeatures(spec, rows, new Set(['origin_hour'])).categorical, enc.categorical);
  // A cross of something that is not a categorical feature or datetime part is refused with its name.
  const bad = {
    ...p,
    features: {
      ...p.features,
      x: { kind: 'cross', columns: ['origin', 'distance'], min_frequency: 1, max_categories: 5 },
    },
  } as unknown as Params;
  assert.throws(
    () => fitFeatureSpec(rows, bad),
    /feature cross "x": "distance" is not a categorical feature or datetime part/,
  );
});

test('datetime parts whose cycle training covers fewer than min_cycles times are left out, with the crosses that use them', () => {
  // Hourly flights over `days` whole days from Monday 2001-01-01 00:00.
  const hourly = (days: number) => {
    const n = days * 24;
    return makeTable({
      date: {
        type: 'timestamp',
        values: Float64Array.from({ length: n }, (_, i) => Date.UTC(2001, 0, 1) + i * 3_600_000),
      },
      origin: { type: 'string', codes: new Int32Array(n), dict: ['ATL'] },
      delay: { type: 'number', values: new Float64Array(n) },
    });
  };
  const p = (minCycles?: number) =>
    ({
      ...params,
      features: {
        date: {
          kind: 'datetime',
          parts: ['hour', 'day_of_week', 'month'],
          ...(minCycles === undefined ? {} : { min_cycles: minCycles }),
        },
        origin: { kind: 'categorical', min_frequency: 1, max_categories: 10 },
        origin_day: { kind: 'cross', columns: ['origin', 'date.day_of_week'], min_frequency: 1, max_categories: 10 },
        origin_hour: { kind: 'cross', columns: ['origin', 'date.hour'], min_frequency: 1, max_categories: 100 },
      },
    }) as unknown as Params;
  // 10 days: 240 hours (10 cycles), 10 days (1.42 weeks), 1 month (0.08 years) → only the hour (default min_cycles 2).
  const short = fitFeatureSpec(hourly(10), p());
  const date = short.features.find((f) => f.name === 'date');
  assert.deepEqual(date?.kind === 'datetime' && date.parts, ['hour']);
  assert.deepEqual(
    short.features.map((f) => f.name),
    ['date', 'origin', 'origin_hour'],
  );
  assert.deepEqual(
    short.dropped?.map((d) => d.feature),
    ['date.day_of_week', 'date.month', 'origin_day'],
  );
  assert.equal(short.dropped[0].reason, 'the training data covers 10 days, 1.42 of its cycles; min_cycles is 2');
  assert.equal(short.dropped[1].reason, 'the training data covers 1 months, 0.08 of its cycles; min_cycles is 2');
  assert.match(short.dropped[2].reason, /date\.day_of_week/);
  assert.deepEqual(
    encodeFeatures(short, hourly(10)).categorical.map((c) => c.name),
    ['date.hour', 'origin', 'origin_hour'],
  );
  // Exactly two weeks show every weekday twice: the day of week stays, and its cross with it.
  const twoWeeks = fitFeatureSpec(hourly(14), p());
  assert.deepEqual(
    twoWeeks.dropped?.map((d) => d.feature),
    ['date.month'],
  );
  assert.ok(twoWeeks.features.some((f) => f.name === 'origin_day'));
  // One week plus a single flight a year later is 8 days, not a year: an outlier adds one day.
  const week = hourly(7);
  const outlier = makeTable({
    date: {
      type: 'timestamp',
      values: Float64Array.from([...(week.columns.date as { values: Float64Array }).values, Date.UTC(2002, 0, 1)]),
    },
    origin: { type: 'string', codes: new Int32Array(7 * 24 + 1), dict: ['ATL'] },
    delay: { type: 'number', values: new Float64Array(7 * 24 + 1) },
  });
  assert.deepEqual(
    fitFeatureSpec(outlier, p()).dropped?.map((d) => d.feature),
    ['date.day_of_week', 'date.month', 'origin_day'],
  );
  // min_cycles 0 keeps every part; a spec that drops nothing has no `dropped` list.
  const all = fitFeatureSpec(hourly(10), p(0));
  assert.equal(all.dropped, undefined);
  assert.equal(all.features.length, 4);
  // A datetime feature with no part left is left out whole; with nothing else to learn from, fitting stops and says why.
  const dateOnly = {
    ...params,
    features: {
      date: { kind: 'datetime', parts: ['day_of_week'] },
      origin: { kind: 'categorical', min_frequency: 1, max_categories: 10 },
    },
  } as unknown as Params;
  const none = fitFeatureSpec(hourly(1), dateOnly);
  assert.deepEqual(
    none.features.map((f) => f.name),
    ['origin'],
  );
  assert.deepEqual(
    none.dropped?.map((d) => d.feature),
    ['date.day_of_week'],
  );
  assert.throws(
    () => fitFeatureSpec(hourly(1), { ...dateOnly, features: { date: dateOnly.features.date } }),
    /no feature is left to train on: date\.day_of_week \(the training data covers 1 days, 0\.14 of its cycles; min_cycles is 2\); ingest a longer period or lower features\.<name>\.min_cycles/,
  );
  // Without a single timestamp the reason says so.
  const noTimes = makeTable({
    date: { type: 'timestamp', values: Float64Array.from([NaN, NaN]) },
    origin: { type: 'string', codes: new Int32Array(2), dict: ['ATL'] },
    delay: { type: 'number', values: new Float64Array(2) },
  });
  assert.equal(fitFeatureSpec(noTimes, dateOnly).dropped?.[0].reason, 'the training data has no timestamps');
});
