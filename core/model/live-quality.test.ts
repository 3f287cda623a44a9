import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SCORE_BINS,
  addPair,
  binnedRocAuc,
  countsBelow,
  emptyCounts,
  liveFigures,
  mergeCounts,
  scoreBin,
  type LiveCounts,
} from './live-quality.ts';
import { rocAuc } from './quality-metrics.ts';

/** Park–Miller: seeded, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

test('score bins: 20 fixed bins on [0, 1], the last closed, out-of-range and NaN to the ends', () => {
  assert.deepEqual([0, 0.049, 0.05, 0.5, 0.999, 1, 1.5, -0.2, NaN].map(scoreBin), [0, 0, 1, 10, 19, 19, 19, 0, 0]);
});

test('binned ROC-AUC by hand: pairs sharing a bin count half', () => {
  // positives in bins 1 and 2, negatives in bins 0 and 1: wins (p1,n0) (p2,n0) (p2,n1), tie (p1,n1) → 3.5 / 4
  assert.equal(binnedRocAuc([0, 1, 1], [1, 1, 0]), 0.875);
  assert.equal(binnedRocAuc([0, 0, 2], [3, 0, 0]), 1);
  assert.equal(binnedRocAuc([1, 0], [0, 0]), null, 'one class only: undefined');
  assert.deepEqual(countsBelow([2, 0, 3, 1]), [0, 2, 2, 5]);
});

test('binned ROC-AUC equals the exact AUC when every score has a bin of its own', () => {
  const next = rng(7);
  for (let trial = 0; trial < 50; trial++) {
    const bins = Array.from({ length: SCORE_BINS }, (_, b) => b).filter(() => next() < 0.6);
    const p = bins.map((b) => (b + 0.1 + 0.8 * next()) / SCORE_BINS);
    const y = p.map(() => (next() < 0.5 ? 1 : 0));
    const c = emptyCounts('classification');
    p.forEach((v, i) => addPair(c, y[i], v, 0.5));
    const exact = rocAuc(y, p);
    const binned = liveFigures(c);
    assert.equal(binned.task, 'classification');
    if (binned.task !== 'classification') return;
    if (Number.isNaN(exact)) assert.equal(binned.roc_auc, null);
    else
      assert.ok(Math.abs(binned.roc_auc! - exact) < 1e-12, `trial ${trial}: binned ${binned.roc_auc} exact ${exact}`);
  }
});

test('live figures by hand: accuracy at the served threshold, MAE and RMSE from sums', () => {
  // y 1 1 0 0, p .9 .4 .6 .1, threshold .5 → tp fn fp tn: accuracy 0.5; AUC 3/4 (distinct bins)
  const c = emptyCounts('classification');
  [0.9, 0.4, 0.6, 0.1].forEach((p, i) => addPair(c, [1, 1, 0, 0][i], p, 0.5));
  assert.deepEqual(liveFigures(c), { task: 'classification', n: 4, accuracy: 0.5, roc_auc: 0.75 });
  // each pair judged at its own threshold: 0.4 served with threshold 0.3 was a positive answer
  const d = emptyCounts('classification');
  addPair(d, 1, 0.4, 0.3);
  addPair(d, 0, 0.4, 0.5);
  assert.equal(d.task === 'classification' && d.confusion.tp + d.confusion.tn, 2);
  const r = emptyCounts('regression');
  addPair(r, 10, 12);
  addPair(r, 20, 17); // errors 2 and −3
  assert.deepEqual(liveFigures(r), { task: 'regression', n: 2, mae: 2.5, rmse: Math.sqrt(6.5) });
  assert.deepEqual(liveFigures(emptyCounts('regression')), { task: 'regression', n: 0, mae: null, rmse: null });
});

test('counts split over 3 replicas and summed give the figures of one process holding every pair', () => {
  const next = rng(11);
  for (const task of ['classification', 'regression'] as const) {
    const one = emptyCounts(task);
    const parts: LiveCounts[] = [emptyCounts(task), emptyCounts(task), emptyCounts(task)];
    for (let i = 0; i < 600; i++) {
      const p = task === 'classification' ? next() : 100 * next();
      const y = task === 'classification' ? (next() < p ? 1 : 0) : p + 20 * (next() - 0.5);
      addPair(one, y, p, 0.37);
      addPair(parts[Math.floor(next() * 3)], y, p, 0.37);
    }
    const merged = liveFigures(mergeCounts(parts)!);
    const single = liveFigures(one);
    for (const [k, v] of Object.entries(single))
      assert.ok(
        typeof v !== 'number' || Math.abs(v - (merged as unknown as Record<string, number>)[k]) < 1e-9,
        `${task} ${k}: ${v} vs ${(merged as unknown as Record<string, number>)[k]}`,
      );
  }
  assert.throws(() => mergeCounts([emptyCounts('classification'), emptyCounts('regression')]), /cannot add/);
});
