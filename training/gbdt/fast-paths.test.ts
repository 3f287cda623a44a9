import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { boost } from './boost.ts';
import { Engine } from './engine.ts';
import { gradients } from './gradients.ts';
import { buildHistogram, buildRootHistogram, histLayout, rootCounts, subtractHistogram } from './split.ts';
import { sortByRatio } from './split-categorical.ts';
import { slotsFor } from './grow.ts';
import { leftTable } from './partition.ts';
import type { TreeInput } from '../../core/model/tree-inputs.ts';
import { seededRandom } from '../../core/platform/random.ts';

/** Three inputs (ordered, categorical of 40, noise), a learnable target of `k` classes (0: regression), weights. */
function rows(n: number, seed: number, k: number) {
  const random = seededRandom(seed);
  const bins = new Uint8Array(n * 3);
  const y = new Float32Array(n);
  const weight = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const a = Math.floor(random() * 30);
    const c = Math.floor(random() * 40);
    bins[r * 3] = a;
    bins[r * 3 + 1] = c;
    bins[r * 3 + 2] = Math.floor(random() * 200);
    const u = random();
    const signal = a > 15 !== (c % 3 === 0);
    if (k > 1) y[r] = u < 0.7 ? (a > 15 ? 1 : 0) + (c % 3 === 0 ? 1 : 0) : Math.floor(u * 10) % k;
    else if (k === 1) y[r] = u < (signal ? 0.8 : 0.25) ? 1 : 0;
    else y[r] = a / 10 + (c % 5) + u;
    weight[r] = 0.5 + random();
  }
  return { bins, y, weight };
}

const inputs: TreeInput[] = [
  { name: 'a', kind: 'ordered', from: 'numeric', edges: Array.from({ length: 28 }, (_, i) => i + 0.5) },
  { name: 'c', kind: 'categorical', from: 'index' },
  { name: 'noise', kind: 'ordered', from: 'numeric', edges: Array.from({ length: 198 }, (_, i) => i + 0.5) },
];

// Hashes of the trees and validation scores from commit c797855, before the one-thread root pass,
// the typed-array categorical sort and the reused buffers: those change no bit of any model.
const BEFORE = {
  binary: '957e291b1498c894e9e2',
  multiclass: '4d8d3d56ca771a70e9ff',
  regression: 'c59e99429990f85a9140',
};

test('the same trees and validation scores, bit for bit, as before the speed work (binary, weighted multi-class and regression; 1 and 2 threads)', () => {
  const params = {
    l2: 1,
    minSamplesLeaf: 20,
    minHessian: 1e-3,
    maxCatThreshold: 32,
    minCategoryCount: 5,
    catSmooth: 10,
    maxLeaves: 31,
    maxDepth: 0,
    learningRate: 0.3,
    maxIter: 12,
    patience: 12,
    waitForWorkers: true,
  };
  for (const threads of [1, 2])
    for (const [objective, k] of [
      ['binary', 1],
      ['multiclass', 3],
      ['regression', 0],
    ] as const) {
      const train = rows(20_000, 1, k);
      const validation = rows(5_000, 2, k);
      const r = boost(
        objective,
        Math.max(1, k),
        inputs,
        [30, 40, 200],
        { ...train, weight: objective === 'binary' ? undefined : train.weight },
        validation,
        { ...params, threads },
      );
      const hash = createHash('sha256')
        .update(JSON.stringify([r.model.trees, Array.from(r.validationScores)]))
        .digest('hex')
        .slice(0, 20);
      assert.equal(hash, BEFORE[objective], `${objective} on ${threads} thread(s)`);
      assert.ok(r.bestIteration >= 5, `${objective}: trees were kept (${r.bestIteration})`);
    }
});

test('one thread: the root pass that computes the gradients gives the separate passes’ histogram and totals', () => {
  for (const [objective, k] of [
    ['binary', 1],
    ['multiclass', 3],
    ['regression', 0],
  ] as const) {
    const kk = Math.max(1, k);
    // Not a multiple of the pass's block of rows, so the last block is partial.
    const { bins, y, weight } = rows(10_001, 3, k);
    const layout = histLayout([30, 40, 200], [false, true, false]);
    const counts = rootCounts(bins, 3, layout);
    const engine = new Engine({
      objective,
      k: kk,
      bins,
      width: 3,
      offsets: layout.offsets,
      counts,
      y,
      weight,
      validationBins: new Uint8Array(0),
      maxNodes: 8,
      slots: slotsFor(4),
      slotSize: layout.total * 3,
      threads: 1,
    });
    const random = seededRandom(4);
    engine.arrays.scores.forEach((_, i, a) => (a[i] = random() * 4 - 2));
    const c = kk - 1;
    engine.gradients(c);
    const totals = engine.root(0);
    const fused = Float64Array.from(engine.hist(0));
    const grad = new Float32Array(y.length);
    const hess = new Float32Array(y.length);
    gradients(objective, engine.arrays.scores, y, weight, kk, c, grad, hess);
    const hist = new Float64Array(layout.total * 3);
    buildRootHistogram(hist, bins, 3, layout.offsets, grad, hess, counts);
    let g = 0;
    let h = 0;
    for (let r = 0; r < y.length; r++) {
      g += grad[r];
      h += hess[r];
    }
    engine.close();
    assert.deepEqual(engine.arrays.grad, grad, objective);
    assert.deepEqual(engine.arrays.hess, hess, objective);
    assert.deepEqual(fused, hist, objective);
    assert.deepEqual(totals, { g, h }, objective);
  }
});

test('the larger child’s histogram as parent − smaller child equals the one built from its rows (counts exactly)', () => {
  const { bins, y } = rows(5_000, 5, 1);
  const layout = histLayout([30, 40, 200], [false, true, false]);
  const random = seededRandom(6);
  const grad = Float32Array.from(y, () => random() - 0.5);
  const hess = Float32Array.from(y, () => random() * 0.25);
  const order = Int32Array.from(y, (_, i) => i);
  const size = layout.total * 3;
  const parent = new Float64Array(size);
  buildHistogram(parent, bins, 3, layout.offsets, grad, hess, order, 0, y.length);
  // Split on the categorical input: categories 0…9 left.
  const goesLeft = leftTable({ cats: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], threshold: -1, defaultLeft: false });
  const left = Int32Array.from(order.filter((r) => goesLeft[bins[r * 3 + 1]] === 1));
  const right = Int32Array.from(order.filter((r) => goesLeft[bins[r * 3 + 1]] === 0));
  assert.ok(left.length > 0 && right.length > left.length);
  const small = new Float64Array(size);
  buildHistogram(small, bins, 3, layout.offsets, grad, hess, left, 0, left.length);
  const direct = new Float64Array(size);
  buildHistogram(direct, bins, 3, layout.offsets, grad, hess, right, 0, right.length);
  subtractHistogram(parent, small, size);
  for (let i = 0; i < size; i++) {
    if (i % 3 === 2) assert.equal(parent[i], direct[i], `count of bin ${i / 3}`);
    else assert.ok(Math.abs(parent[i] - direct[i]) < 1e-9, `sum ${i}: ${parent[i]} vs ${direct[i]}`);
  }
});

test('categories sorted by ratio as Array#sort with (ratio, bin) sorts them, ties and −0 included', () => {
  const random = seededRandom(7);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(random() * 255);
    const ratio = new Float64Array(256);
    // Few distinct values: many ties, which must keep bin order.
    for (let b = 0; b < 256; b++) ratio[b] = [-0, 0, -1.5, 2, Math.floor(random() * 5) / 3][Math.floor(random() * 5)];
    const bins = Array.from({ length: 256 }, (_, b) => b)
      .filter(() => random() < n / 256)
      .slice(0, n);
    const idx = Int32Array.from({ length: 256 }, (_, i) => bins[i] ?? 0);
    const sorted = sortByRatio(idx, bins.length, ratio, new Int32Array(256));
    const expected = [...bins].sort((a, b) => ratio[a] - ratio[b] || a - b);
    assert.deepEqual(Array.from(sorted.subarray(0, bins.length)), expected);
  }
});
