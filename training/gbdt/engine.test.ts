import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boost, rawRocAuc } from './boost.ts';
import { gbdtThreads, PARALLEL_MIN_ROWS, share } from './engine.ts';
import type { TreeInput } from '../../core/model/tree-inputs.ts';
import { seededRandom } from '../../core/platform/random.ts';

const params = { l2: 1, minSamplesLeaf: 20, minHessian: 1e-3, maxCatThreshold: 32, minCategoryCount: 5, catSmooth: 10 };
/** Six trees of 16 leaves, the workers waited for: enough for every kind of pass to be shared. */
const sixTrees = {
  ...params,
  maxLeaves: 16,
  maxDepth: 0,
  learningRate: 0.3,
  maxIter: 6,
  patience: 6,
  waitForWorkers: true,
};

/** Rows with an ordered, a categorical and a noisy ordered input (missing values included). */
function rows(n: number, seed: number) {
  const random = seededRandom(seed);
  const bins = new Uint8Array(n * 3);
  const y = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const a = Math.floor(random() * 30);
    const c = Math.floor(random() * 12);
    bins[r * 3] = a;
    bins[r * 3 + 1] = c;
    bins[r * 3 + 2] = Math.floor(random() * 200);
    y[r] = random() < (a > 15 !== (c % 3 === 0) ? 0.8 : 0.25) ? 1 : 0;
  }
  return { bins, y };
}

const inputs: TreeInput[] = [
  { name: 'a', kind: 'ordered', from: 'numeric', edges: Array.from({ length: 28 }, (_, i) => i + 0.5) },
  { name: 'c', kind: 'categorical', from: 'index' },
  { name: 'noise', kind: 'ordered', from: 'numeric', edges: Array.from({ length: 198 }, (_, i) => i + 0.5) },
];

test('the same trees, bit for bit, on 1, 2 and 3 threads (histograms by inputs; gradients, validation scores and ROC-AUC sorts by rows)', () => {
  // Enough rows that the root, the first splits and the validation rows go to the workers.
  const train = rows(3 * PARALLEL_MIN_ROWS, 1);
  const validation = rows(PARALLEL_MIN_ROWS + 1000, 2);
  const aucs: number[][] = [];
  const fit = (threads: number) => {
    const seen: number[] = [];
    aucs.push(seen);
    return boost('binary', 1, inputs, [30, 12, 200], train, validation, { ...sixTrees, threads }, undefined, {
      value: (raw, sorter) => -seen[seen.push(rawRocAuc(raw, validation.y, sorter)) - 1],
      every: 1,
    });
  };
  const one = fit(1);
  assert.equal(one.threads, 1);
  for (const threads of [2, 3]) {
    const many = fit(threads);
    assert.equal(many.threads, threads, 'the workers started');
    assert.ok(many.parallel.parallel > 0, 'passes were shared');
    assert.deepEqual(many.model, one.model);
    assert.deepEqual(many.validationScores, one.validationScores);
    assert.deepEqual(many.history, one.history);
  }
  assert.ok(one.bestIteration >= 1);
  assert.equal(aucs[1].length, 7, 'ROC-AUC before the first tree and after each');
  assert.deepEqual(aucs[1], aucs[0]);
  assert.deepEqual(aucs[2], aucs[0]);
  assert.ok(Math.max(...aucs[0]) > 0.7);
  assert.ok(one.model.trees[0].feature.length > 15, 'trees of 16 leaves were grown');
});

test('shareWhen: every pass on the calling thread until it says yes, then shared; the same trees', () => {
  const train = rows(3 * PARALLEL_MIN_ROWS, 3);
  const validation = rows(PARALLEL_MIN_ROWS + 1000, 4);
  const fit = (threads: number, shareWhen?: () => boolean) =>
    boost('binary', 1, inputs, [30, 12, 200], train, validation, { ...sixTrees, threads, shareWhen });
  const one = fit(1);
  const never = fit(2, () => false);
  assert.equal(never.threads, 2);
  assert.equal(never.parallel.parallel, 0, 'no pass shared while the gate is shut');
  assert.deepEqual(never.model, one.model);
  // Opening at any point, between a deferred gradients() and its root() included, changes no bit.
  for (const after of [1, 2, 40]) {
    let asked = 0;
    const opened = fit(2, () => ++asked > after);
    assert.ok(asked > after, `the gate was asked past ${after}`);
    assert.ok(opened.parallel.parallel > 0, `passes shared once the gate opened after ${after} questions`);
    assert.deepEqual(opened.model, one.model);
    assert.deepEqual(opened.validationScores, one.validationScores);
  }
});

test('threads: GBDT_THREADS wins (at most one per input), else one below 300k rows, else the machine', () => {
  assert.equal(gbdtThreads(10, 6, '3'), 3);
  assert.equal(gbdtThreads(10, 2, '4'), 2);
  assert.equal(gbdtThreads(2_000_000, 6, '1'), 1);
  assert.equal(gbdtThreads(50_000, 6, undefined), 1);
  // The quick default's refit (127,510 rows) included.
  assert.equal(gbdtThreads(299_999, 6, undefined), 1);
  assert.ok(gbdtThreads(2_000_000, 6, undefined) >= 1);
  assert.throws(() => gbdtThreads(10, 6, 'two'), /GBDT_THREADS is "two"; set it to a whole number/);
  assert.throws(() => gbdtThreads(10, 6, '0'), /GBDT_THREADS/);
});

test('shares cover every item once, in order', () => {
  for (const threads of [1, 2, 3, 4]) {
    const parts = Array.from({ length: threads }, (_, t) => share(7, t, threads));
    assert.equal(parts[0][0], 0);
    assert.equal(parts[threads - 1][1], 7);
    parts.slice(1).forEach((p, i) => assert.equal(p[0], parts[i][1]));
  }
});
