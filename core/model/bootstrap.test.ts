import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapCi, bootstrapCis } from './bootstrap.ts';
import { averagePrecision, logLoss, rocAuc } from './quality-metrics.ts';
import { seededRandom } from '../platform/random.ts';

const mean = (_y: Float64Array, p: Float64Array) => p.reduce((s, v) => s + v, 0) / p.length;

test('the CI of a mean covers it and has the textbook width (±1.96·σ/√n)', () => {
  const r = seededRandom(1);
  const n = 2000;
  const p = Float64Array.from({ length: n }, () => r()); // uniform: σ = 1/√12
  const y = new Float64Array(n);
  const [lo, hi] = bootstrapCi(y, p, mean, { resamples: 400 })!;
  const m = mean(y, p);
  assert.ok(lo < m && m < hi);
  const expected = (2 * 1.96 * (1 / Math.sqrt(12))) / Math.sqrt(n);
  assert.ok(Math.abs(hi - lo - expected) / expected < 0.15, `width ${hi - lo} vs ${expected}`);
});

test('ROC-AUC CI: deterministic for a seed, narrower with more rows, null on an empty set', () => {
  const r = seededRandom(2);
  const make = (n: number) => {
    const y = Float64Array.from({ length: n }, () => (r() < 0.3 ? 1 : 0));
    const p = Float64Array.from(y, (v) => 0.5 * r() + 0.3 * v);
    return { y, p };
  };
  const small = make(500),
    large = make(20000);
  const a = bootstrapCi(small.y, small.p, rocAuc)!,
    b = bootstrapCi(small.y, small.p, rocAuc)!;
  assert.deepEqual(a, b);
  const c = bootstrapCi(large.y, large.p, rocAuc, { maxRows: 5000 })!;
  assert.ok(c[1] - c[0] < a[1] - a[0]);
  assert.equal(bootstrapCi([], [], rocAuc), null);
});

test('resamples are the same rows as drawing in the original order: the interval equals a plain bootstrap', () => {
  const r = seededRandom(3);
  const n = 300;
  const y = Float64Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0));
  const p = Float64Array.from(y, (v) => Math.round((0.6 * r() + 0.2 * v) * 20) / 20); // ties on purpose
  // The plain bootstrap, written out: draw rows j in the original order with the same seeded stream.
  const random = seededRandom(12345);
  const values: number[] = [];
  for (let b = 0; b < 200; b++) {
    const ys = new Float64Array(n),
      ps = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const j = Math.floor(random() * n);
      ys[i] = y[j];
      ps[i] = p[j];
    }
    values.push(rocAuc(ys, ps));
  }
  values.sort((a, b) => a - b);
  const q = (f: number) => values[Math.round(f * (values.length - 1))];
  const [lo, hi] = bootstrapCi(y, p, rocAuc)!;
  assert.ok(
    Math.abs(lo - q(0.025)) < 1e-12 && Math.abs(hi - q(0.975)) < 1e-12,
    `${lo}, ${hi} vs ${q(0.025)}, ${q(0.975)}`,
  );
});

test('several metrics over shared resamples give each the interval of its own call', () => {
  const r = seededRandom(4);
  const y = Float64Array.from({ length: 3000 }, () => (r() < 0.25 ? 1 : 0));
  const p = Float64Array.from(y, (v) => Math.min(0.99, 0.6 * r() + 0.3 * v));
  for (const maxRows of [undefined, 1000]) {
    const all = bootstrapCis(y, p, { roc_auc: rocAuc, pr_auc: averagePrecision, log_loss: logLoss }, { maxRows });
    assert.deepEqual(all.roc_auc, bootstrapCi(y, p, rocAuc, { maxRows }));
    assert.deepEqual(all.pr_auc, bootstrapCi(y, p, averagePrecision, { maxRows }));
    assert.deepEqual(all.log_loss, bootstrapCi(y, p, logLoss, { maxRows }));
    assert.notDeepEqual(all.roc_auc, all.pr_auc);
  }
});

test('ROC-AUC and PR-AUC from one set of threshold counts per resample: the intervals of the metrics called on their own', () => {
  const r = seededRandom(9);
  const n = 1500;
  // Ties included (scores on a coarse grid), as calibrated scores have.
  const p = Float64Array.from({ length: n }, () => Math.round(r() * 50) / 50);
  const y = Float64Array.from(p, (v) => (r() < v ? 1 : 0));
  const shared = bootstrapCis(y, p, { roc_auc: rocAuc, pr_auc: averagePrecision, log_loss: logLoss });
  const own = bootstrapCis(y, p, {
    roc_auc: (a: ArrayLike<number>, b: ArrayLike<number>) => rocAuc(a, b),
    pr_auc: (a: ArrayLike<number>, b: ArrayLike<number>) => averagePrecision(a, b),
    log_loss: (a: ArrayLike<number>, b: ArrayLike<number>) => logLoss(a, b),
  });
  assert.deepEqual(shared, own);
  assert.ok(shared.roc_auc && shared.pr_auc && shared.roc_auc[0] < shared.roc_auc[1]);
});
