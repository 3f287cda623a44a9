import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DATASETS } from './quality-dataset.ts';
import {
  fitParity,
  float32Numbers,
  HGB_SETTINGS,
  parityBoostParams,
  parityColumns,
  parityTable,
  rawFeatureSpec,
} from './quality-parity.ts';
import { makeTable, type Table } from '../../../core/data/table.ts';
import { loadParams, type Params } from '../../../core/schemas/params.ts';
import { fitFeatureSpec } from '../../../core/model/features.ts';
import { treeOutputs } from '../../../core/model/trees.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');

/** Cars-shaped rows: only the weight and the origin vary; the other features are constant. */
function cars(weight: number[], mpg: number[], origin: string[] = weight.map(() => 'USA')): Table {
  const dict = [...new Set(origin)];
  const n = weight.length;
  const constant = (v: number) => ({ type: 'number' as const, values: new Float64Array(n).fill(v) });
  return makeTable({
    Year: constant(0),
    Miles_per_Gallon: { type: 'number', values: Float64Array.from(mpg) },
    Cylinders: constant(4),
    Displacement: constant(100),
    Horsepower: constant(90),
    Weight_in_lbs: { type: 'number', values: Float64Array.from(weight) },
    Acceleration: constant(15),
    Origin: { type: 'string', codes: Int32Array.from(origin, (o) => dict.indexOf(o)), dict },
  });
}

const params = () => loadParams(join(REPO, DATASETS['cars-mpg']));

test("HistGradientBoosting's settings are taken as they are: min_samples_leaf 20 however few the rows, every iteration kept", () => {
  const p = parityBoostParams(HGB_SETTINGS);
  assert.equal(p.minSamplesLeaf, 20);
  assert.equal(p.maxLeaves, 31);
  assert.equal(p.maxDepth, 0);
  assert.equal(p.l2, 0);
  assert.equal(p.learningRate, 0.1);
  assert.equal(p.maxIter, 100);
  assert.ok(p.patience >= p.maxIter, 'no early stopping');
});

test('one iteration on a two-level target: the only split min_samples_leaf 20 allows, leaves moved by a tenth of the residual (worked by hand)', async () => {
  const pr = await params();
  const weight = Array.from({ length: 40 }, (_, i) => 2000 + 50 * i);
  const mpg = weight.map((w) => (w < 3000 ? 30 : 20));
  const fit = cars(weight, mpg);
  const spec = fitFeatureSpec(fit, pr);
  const { model, iterations } = fitParity(spec, fit, 'regression', { ...HGB_SETTINGS, max_iter: 1 }, 42);
  assert.equal(iterations, 1);
  const out = treeOutputs(model, rawFeatureSpec(spec), cars([2400, 3600], [0, 0]), null);
  // Baseline: the mean, 25; each side's residual ±5, times the learning rate 0.1.
  assert.ok(Math.abs(out[0] - 25.5) < 1e-5, `light car ${out[0]}`);
  assert.ok(Math.abs(out[1] - 24.5) < 1e-5, `heavy car ${out[1]}`);

  // 100 iterations, no early stopping: the residual shrinks by 0.9 each time.
  const hundred = fitParity(spec, fit, 'regression', HGB_SETTINGS, 42);
  assert.equal(hundred.iterations, 100);
  const far = treeOutputs(hundred.model, rawFeatureSpec(spec), cars([2400], [0]), null);
  assert.ok(Math.abs(far[0] - (30 - 5 * 0.9 ** 100)) < 1e-4, `after 100 iterations ${far[0]}`);
});

test('min_samples_leaf 20 is not capped by the row count: five outliers among 40 rows keep sharing a leaf', async () => {
  const pr = await params();
  const weight = Array.from({ length: 40 }, (_, i) => 2000 + 50 * i);
  // The five heaviest cars are far off; the project's own cap (2 % of the rows, at least 5) would isolate them.
  const mpg = weight.map((_, i) => (i >= 35 ? 50 : 25));
  const fit = cars(weight, mpg);
  const spec = fitFeatureSpec(fit, pr);
  const { model } = fitParity(spec, fit, 'regression', HGB_SETTINGS, 42);
  const out = treeOutputs(model, rawFeatureSpec(spec), fit, null);
  assert.equal(new Set(Array.from(out, (v) => v.toFixed(4))).size, 2, 'two leaves of 20 rows');
  assert.equal(out[39].toFixed(4), out[20].toFixed(4), 'an outlier shares its leaf with 15 ordinary cars');
});

test('the matrix gives the reference our category indices: a value below min_frequency is pooled with the unseen ones', async () => {
  const pr = await params();
  const p: Params = {
    ...pr,
    features: { ...pr.features, Origin: { kind: 'categorical', min_frequency: 5, max_categories: 100 } },
  };
  const origin = [...Array(20).fill('USA'), ...Array(8).fill('Japan'), 'Europe', 'Europe'];
  const weight = origin.map((_, i) => 2000 + 10 * i);
  const train = cars(
    weight,
    weight.map(() => 20),
    origin,
  );
  const spec = fitFeatureSpec(train, p);
  const test = cars([2500, 2600], [20, 20], ['Europe', 'Japan']);
  const ref = parityColumns(p, spec, [train, cars([], []), test], rawFeatureSpec(spec));
  const j = ref.columns.indexOf('Origin');
  const at = (i: number) => ref.matrix[i * ref.columns.length + j];
  assert.equal(at(28), 0, 'Europe (2 rows) is out of vocabulary');
  assert.equal(at(30), 0);
  assert.ok(at(0) > 0 && at(20) > 0 && at(0) !== at(20), 'USA and Japan have their own index');
  assert.equal(at(31), at(20), 'the test Japan is the training Japan');
});

test('both engines read float32 numbers: a value on a bin edge falls on the same side for both', () => {
  const t = float32Numbers(cars([2000], [42.4], ['USA']));
  const c = t.columns.Miles_per_Gallon;
  assert.ok(c.type === 'number');
  assert.equal(c.values[0], Math.fround(42.4));
  assert.notEqual(c.values[0], 42.4);
  assert.equal(t.columns.Origin.type, 'string');
  const midnight = Date.UTC(2001, 0, 31, 23, 59);
  const withTime = float32Numbers({
    length: 1,
    columns: { Year: { type: 'timestamp', values: Float64Array.of(midnight) } },
  });
  assert.equal(
    withTime.columns.Year.type === 'timestamp' && withTime.columns.Year.values[0],
    midnight,
    'timestamps as they are',
  );
});

test('the parity table: the mean relative difference per table and the seeds where ours is ahead or level', () => {
  const line = (seed: number, relative: number) => ({ parity_compare: 'cars-mpg', metric: 'rmse', seed, relative });
  const text = parityTable([line(42, 0.04), line(1, -0.02), line(2, 0)]);
  assert.match(text, /\| cars-mpg \| rmse \| 42, 1, 2 \| 0\.67 % \| 2 of 3 \|/);
});
