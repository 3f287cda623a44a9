import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boost, type Objective } from './boost.ts';
import { averageEnsembles } from './fold-average.ts';
import { rawScores, treeModel, treeModelFrom, type TreeEnsembleJson } from '../../core/model/trees.ts';
import type { TreeInput } from '../../core/model/tree-inputs.ts';
import { seededRandom } from '../../core/platform/random.ts';

const inputs: TreeInput[] = [
  { name: 'a', kind: 'ordered', from: 'numeric', edges: [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5] },
  { name: 'c', kind: 'categorical', from: 'index' },
];
const binCounts = [11, 4];

function rows(n: number, k: number, random: () => number) {
  const bins = new Uint8Array(n * 2);
  const y = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const a = Math.floor(random() * 11); // bin 0: missing
    const c = Math.floor(random() * 4);
    bins[r * 2] = a;
    bins[r * 2 + 1] = c;
    y[r] = k > 1 ? (a + c + Math.floor(random() * 3)) % k : a * 0.7 + (c === 2 ? 3 : 0) + random();
  }
  return { bins, y };
}

/** Ensembles boosted on different rows (and so stopping at different iterations) over the same inputs. */
function foldModels(objective: Objective, k: number, seed: number): TreeEnsembleJson[] {
  const random = seededRandom(seed);
  return [12, 25, 40].map(
    (maxIter) =>
      boost(objective, k, inputs, binCounts, rows(300, k, random), rows(100, k, random), {
        l2: 1,
        minSamplesLeaf: 5,
        minHessian: 1e-3,
        maxCatThreshold: 32,
        minCategoryCount: 1,
        catSmooth: 0,
        maxLeaves: 8,
        maxDepth: 0,
        learningRate: 0.3,
        maxIter,
        patience: 5,
        threads: 1,
      }).model,
  );
}

for (const [objective, k] of [
  ['regression', 1],
  ['multiclass', 3],
  ['binary', 1],
] as const) {
  test(`${objective}: the averaged ensemble scores the mean of the fold ensembles' raw scores on random rows`, () => {
    const models = foldModels(objective, k, 11);
    assert.ok(
      new Set(models.map((m) => m.trees.length)).size > 1,
      `tree counts ${models.map((m) => m.trees.length).join(', ')}`,
    );
    const averaged = averageEnsembles(models);
    // Through trees.json as a bundle stores it: the schema and the quick check accept it.
    const served = treeModelFrom(JSON.parse(JSON.stringify(averaged)), 'trees.json');
    const test = rows(500, objective === 'regression' ? 1 : objective === 'binary' ? 2 : k, seededRandom(99));
    const got = rawScores(served, test.bins, 500);
    const each = models.map((m) => rawScores(treeModel(m), test.bins, 500));
    for (let i = 0; i < got.length; i++) {
      const mean = each.reduce((s, scores) => s + scores[i], 0) / each.length;
      assert.ok(Math.abs(got[i] - mean) < 1e-9, `row ${Math.floor(i / k)} class ${i % k}: ${got[i]} vs ${mean}`);
    }
    // Not trivially equal to one of them.
    assert.ok(each.every((scores) => scores.some((v, i) => Math.abs(v - got[i]) > 1e-6)));
  });
}

test('ensembles of other inputs, another objective or a partial multi-class iteration are refused', () => {
  const [a, b] = foldModels('multiclass', 3, 5);
  assert.throws(() => averageEnsembles([a, { ...b, inputs: [inputs[0]] }]), /different inputs/);
  assert.throws(() => averageEnsembles([a, { ...b, objective: 'binary' }]), /multiclass\/3 beside|binary/);
  assert.throws(() => averageEnsembles([a, { ...b, trees: b.trees.slice(1) }]), /whole number of 3-class iterations/);
  assert.throws(() => averageEnsembles([]), /no ensembles/);
});
