import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  datasetTable,
  DATASETS,
  referenceColumns,
  seedTable,
  withSeed,
  type DatasetResult,
} from './quality-dataset.ts';
import { makeTable, type Table } from '../../../core/data/table.ts';
import { loadParams } from '../../../core/schemas/params.ts';
import { fitFeatureSpec } from '../../../core/model/features.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');

/** Penguin-shaped rows: island and sex as codes of their text (-1 missing), the beak length (NaN missing), the species. */
function penguins(species: string[], island: number[], sex: number[], beak: number[]): Table {
  return makeTable({
    Species: {
      type: 'string',
      codes: Int32Array.from(species, (s) => ['Adelie', 'Chinstrap', 'Gentoo'].indexOf(s)),
      dict: ['Adelie', 'Chinstrap', 'Gentoo'],
    },
    Island: { type: 'string', codes: Int32Array.from(island), dict: ['Dream', 'Biscoe'] },
    Sex: { type: 'string', codes: Int32Array.from(sex), dict: ['MALE', 'FEMALE'] },
    'Beak Length (mm)': { type: 'number', values: Float64Array.from(beak) },
    'Beak Depth (mm)': { type: 'number', values: Float64Array.from(beak, (_, i) => 18 + i) },
    'Flipper Length (mm)': { type: 'number', values: Float64Array.from(beak, (_, i) => 200 + i) },
    'Body Mass (g)': { type: 'number', values: Float64Array.from(beak, (_, i) => 4000 + i) },
  });
}

test('reference columns: numbers, then categories as codes (missing −1), the encoded target and the split, row by row', async () => {
  const params = await loadParams(join(REPO, DATASETS.penguins));
  const train = penguins(['Adelie', 'Gentoo', 'Chinstrap', 'Adelie'], [1, 0, 1, 1], [0, 1, -1, 0], [39, 47, NaN, 40]);
  const test = penguins(['Gentoo'], [0], [1], [50]);
  const spec = fitFeatureSpec(train, params);
  const ref = referenceColumns(params, spec, [train, penguins([], [], [], []), test]);
  assert.deepEqual(spec.dropped ?? [], []);
  assert.deepEqual(ref.numeric, ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)']);
  assert.deepEqual(ref.categorical, ['Island', 'Sex']);
  assert.deepEqual(ref.columns, [...ref.numeric, ...ref.categorical, 'target', 'split']);
  assert.equal(ref.rows, 5);
  const row = (i: number) => Array.from(ref.matrix.subarray(i * 8, i * 8 + 8));
  // Island "Biscoe" is seen first (code 0), "Dream" second; species Adelie, Chinstrap, Gentoo are 0, 1, 2.
  assert.deepEqual(row(0), [39, 18, 200, 4000, 0, 0, 0, 0]);
  assert.deepEqual(row(2), [NaN, 20, 202, 4002, 0, -1, 1, 0]);
  assert.deepEqual(row(4), [50, 18, 200, 4000, 1, 1, 2, 2]);
});

test('the table says ahead, level or behind against the better reference', () => {
  const base = { kind: 'multiclass' as const, rows: { train: 1, validation: 1, test: 1 }, selected: 'mlp', lines: [] };
  const results: DatasetResult[] = [
    {
      ...base,
      dataset: 'a',
      metric: 'macro_f1',
      ours: 0.5,
      references: { 'sklearn HistGradientBoostingClassifier': 0.4, 'sklearn LogisticRegression': 0.3 },
      relative: 0.25,
      within: true,
    },
    {
      ...base,
      dataset: 'b',
      kind: 'regression',
      metric: 'rmse',
      ours: 4,
      references: { 'sklearn HistGradientBoostingRegressor': 3, 'sklearn Ridge': 5 },
      relative: -0.3333,
      within: false,
    },
  ];
  const text = datasetTable(results);
  assert.match(text, /\| a \| macro_f1 \| 0\.5000 \(mlp\) \| 0\.4000 \| 0\.3000 \| 25\.0 % \| yes \|/);
  assert.match(text, /\| b \| rmse \| 4\.0000 \(mlp\) \| 3\.0000 \| 5\.0000 \| -33\.3 % \| no \|/);
});

test('--seeds: a hash split moves its split.seed, a time split its train.seed; the seed table gives the mean and the count within 2 %', async () => {
  const hash = await loadParams(join(REPO, DATASETS['cars-mpg']));
  const time = await loadParams(join(REPO, DATASETS['seattle-weather']));
  assert.equal(withSeed(hash, 3).split.seed, 3);
  assert.equal(withSeed(hash, 3).train?.seed, hash.train?.seed);
  assert.equal(withSeed(time, 3).train?.seed, 3);
  assert.deepEqual(withSeed(time, 3).split, time.split);
  assert.equal(withSeed(hash, undefined), hash);

  const base = { kind: 'regression' as const, rows: { train: 1, validation: 1, test: 1 }, selected: 'gbdt', lines: [] };
  const run = (seed: number, relative: number): DatasetResult => ({
    ...base,
    dataset: 'cars-mpg',
    seed,
    metric: 'rmse',
    ours: 1,
    references: {},
    relative,
    within: relative >= -0.02,
  });
  const text = seedTable([run(42, -0.05), run(1, 0.01), run(2, -0.01)]);
  assert.match(text, /\| cars-mpg \| 42, 1, 2 \| -1\.7 % \| 2 of 3 \|/);
  assert.match(datasetTable([run(42, -0.05)]), /\| cars-mpg \(seed 42\) \| rmse/);
});
