import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTable, takeRows, type Table } from '../../core/data/table.ts';
import { fitFeatureSpec } from '../../core/model/features.ts';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import type { CandidateConfig } from '../../core/model/network.ts';
import { memoryLogger } from '../../core/platform/log.ts';
import { seededRandom } from '../../core/platform/random.ts';
import type { Params } from '../../core/schemas/params.ts';
import { boostParams, type GbdtConfig } from '../gbdt/fit-gbdt.ts';
import { chooseTreeRecipe, REFERENCE_RECIPE, referenceFirstFit, referenceRecipe } from './tree-recipe.ts';

const params = {
  data: { source: 'x', format: 'auto' },
  task: { type: 'regression', target: 'y' },
  features: { x: { kind: 'numeric', transform: 'standard', missing: 'median' } },
} as unknown as Params;

function table(n: number, f: (x: number) => number, noise: number): Table {
  const r = seededRandom(5);
  const x = Float64Array.from({ length: n }, () => r() * 10);
  return makeTable({
    x: { type: 'number', values: x },
    y: { type: 'number', values: x.map((v) => f(v) + (r() - 0.5) * noise) },
  });
}

const o = { task: 'regression' as const, primary: 'rmse' as const, seed: 3, batchSize: 32, log: memoryLogger() };

async function choose(whole: Table, own: CandidateConfig, iterations: number) {
  const { tf } = await selectBackend({ log: memoryLogger() });
  const spec = fitFeatureSpec(whole, params);
  const n = whole.length;
  const cut = Math.floor(n * 0.8);
  const tables = {
    train: takeRows(whole, [...Array(cut).keys()]),
    validation: takeRows(
      whole,
      [...Array(n - cut).keys()].map((i) => i + cut),
    ),
  };
  const reference = referenceRecipe(own);
  const first = referenceFirstFit(reference, spec, tables, o);
  assert.equal(first.predictions.length, n - cut, 'the reference recipe scores the validation rows');
  return chooseTreeRecipe(tf, spec, tables, { cfg: own, iterations }, { cfg: reference }, o);
}

test('referenceRecipe: HistGradientBoosting-like settings, min_samples_leaf not capped by the row count, every iteration kept', () => {
  const own = { name: 'gbdt', model: 'gbdt' as const, learning_rate: 0.3, max_leaf_nodes: 63, min_samples_leaf: 100 };
  const ref = referenceRecipe(own) as GbdtConfig;
  assert.equal(ref.name, 'gbdt');
  const p = boostParams(ref, 300);
  assert.equal(p.minSamplesLeaf, REFERENCE_RECIPE.min_samples_leaf, 'as given, not the 2 % cap');
  assert.equal(
    boostParams({ ...ref, min_samples_leaf_uncapped: undefined }, 300).minSamplesLeaf,
    6,
    'capped: 300 / 50',
  );
  assert.equal(p.maxLeaves, 31);
  assert.equal(p.l2, 0);
  assert.equal(p.learningRate, 0.1);
  assert.ok(p.patience >= p.maxIter, 'no early stopping');
});

test('chooseTreeRecipe: the reference recipe where the own one underfits (one shallow iteration on a smooth trend)', async () => {
  const own = { name: 'gbdt', model: 'gbdt' as const, learning_rate: 0.05, max_leaf_nodes: 2 } as CandidateConfig;
  const { record, outputs } = await choose(
    table(300, (x) => 3 * x, 1),
    own,
    1,
  );
  assert.equal(record.chosen, 'reference');
  assert.ok(record.reference_loss < record.own_loss / 4, JSON.stringify(record));
  assert.equal(outputs.length, 300);
  assert.equal(record.folds, 5);
  assert.equal(record.loss, 'squared_error');
});

test('chooseTreeRecipe: its own recipe where leaves of 20 rows blur a fine step function', async () => {
  // Ten steps of ~8 rows each in 80 rows: a leaf needs at least 20 rows in the reference recipe,
  // 5 in the own one (min_samples_leaf 5).
  const own = {
    name: 'gbdt',
    model: 'gbdt' as const,
    learning_rate: 0.3,
    max_leaf_nodes: 31,
    min_samples_leaf: 5,
    l2_regularization: 0,
  } as CandidateConfig;
  const { record } = await choose(
    table(80, (x) => (Math.floor(x) % 2) * 20, 0.5),
    own,
    100,
  );
  assert.equal(record.chosen, 'own', JSON.stringify(record));
  assert.ok(record.own_loss < record.reference_loss, JSON.stringify(record));
});
