import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Table } from '../data/table.ts';
import type { EncodedFeatures, FeatureSpec } from './features.ts';
import { binInto, binRows, inputValues, type TreeInput } from './tree-inputs.ts';

/** Rows with every case a bin depends on: missing and out-of-range numbers, OOV and missing categories, missing timestamps. */
function fixture(rows: number, seed: number) {
  let s = seed;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const distance = Float64Array.from({ length: rows }, () => {
    const u = rand();
    return u < 0.1 ? NaN : u < 0.15 ? -5 : u < 0.2 ? 1e9 : Math.round(u * 3000);
  });
  const date = Float64Array.from({ length: rows }, () => (rand() < 0.15 ? NaN : 1.6e12 + rand() * 3e10));
  const index = (cardinality: number) => Int32Array.from({ length: rows }, () => Math.floor(rand() * cardinality));
  const table: Table = {
    length: rows,
    columns: {
      distance: { type: 'number', values: distance },
      date: { type: 'timestamp', values: date },
    },
  };
  const enc: EncodedFeatures = {
    rows,
    numeric: new Float32Array(0),
    numericNames: [],
    categorical: [
      { name: 'origin', cardinality: 300, indices: index(300) },
      { name: 'date.hour', cardinality: 24, indices: index(24) },
      { name: 'route', cardinality: 40, indices: index(40) },
      { name: 'carrier', cardinality: 9, indices: index(9) },
    ],
    oov: {},
    missing: {},
  };
  const spec = {
    version: 1,
    features: [{ kind: 'datetime', name: 'date', parts: ['hour'] }],
    target: { name: 'late', kind: 'binary' },
    time_column: 'date',
  } as unknown as FeatureSpec;
  const inputs: TreeInput[] = [
    { name: 'distance', kind: 'ordered', from: 'numeric', edges: [100, 250.5, 800, 2000] },
    { name: 'origin', kind: 'categorical', from: 'index' },
    { name: 'date.hour', kind: 'ordered', from: 'index', edges: [5.5, 11.5, 17.5] },
    { name: 'date.hour', kind: 'categorical', from: 'index' },
    {
      name: 'route',
      kind: 'ordered',
      from: 'target_stat',
      edges: [0.1, 0.2, 0.3],
      stats: Array.from({ length: 30 }, (_, i) => i / 30),
    },
    { name: 'carrier', kind: 'categorical', from: 'index', category_bins: [0, 1, 1, 2, 3, 3, 4] },
  ];
  return { table, enc, spec, inputs };
}

test('binRows gives each input the bins of binInto(inputValues), row by row, at 1 to 500 rows', () => {
  for (const [rows, seed] of [
    [1, 1],
    [3, 2],
    [27, 3],
    [500, 4],
  ]) {
    const { table, enc, spec, inputs } = fixture(rows, seed);
    const width = inputs.length;
    const expected = new Uint8Array(rows * width);
    inputs.forEach((input, f) => binInto(input, inputValues(input, enc, table, spec), expected, f, width));
    // Twice: the second call reads the plan made by the first.
    assert.deepEqual(binRows(inputs, enc, table, spec), expected, `${rows} rows`);
    assert.deepEqual(binRows(inputs, enc, table, spec), expected, `${rows} rows, again`);
  }
});

test('binRows: a missing timestamp makes its parts missing (bin 0), a missing number bin 0', () => {
  const { table, enc, spec, inputs } = fixture(200, 9);
  const bins = binRows(inputs, enc, table, spec);
  const date = (table.columns.date as { values: Float64Array }).values;
  const distance = (table.columns.distance as { values: Float64Array }).values;
  let checked = 0;
  for (let r = 0; r < 200; r++) {
    if (Number.isNaN(date[r])) {
      assert.equal(bins[r * inputs.length + 2], 0);
      assert.equal(bins[r * inputs.length + 3], 0);
      checked++;
    }
    if (Number.isNaN(distance[r])) assert.equal(bins[r * inputs.length], 0);
  }
  assert.ok(checked > 0, 'the fixture has missing timestamps');
});

test('binRows names the encoded inputs when the model asks for one the spec does not encode', () => {
  const { table, enc, spec } = fixture(2, 5);
  assert.throws(
    () => binRows([{ name: 'weekday', kind: 'categorical', from: 'index' }], enc, table, spec),
    /tree input "weekday" is not among the encoded inputs \(origin, date\.hour, route, carrier\)/,
  );
  assert.throws(
    () => binRows([{ name: 'speed', kind: 'ordered', from: 'numeric', edges: [1] }], enc, table, spec),
    /needs a numeric column "speed"/,
  );
});
