import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../core/platform/random.ts';
import { GREEDY_ROUNDS, greedyWeights, memberLosses, rowLoss } from './blend-weights.ts';
import { foldOf } from './blend-oof.ts';

const n = 400;
const random = seededRandom(3);
const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const y = Float32Array.from({ length: n }, () => 20 + 5 * gauss());
const noisy = (sd: number) => y.map((v) => v + sd * gauss());
const squared = rowLoss('regression', 'rmse', 1);
const sum = (w: number[]) => w.reduce((s, v) => s + v, 0);
const floor = 1 / (3 + GREEDY_ROUNDS);

test('greedy selection gives the known-best member the most weight, every member at least 1/(members + rounds), weights summing to 1', () => {
  const outputs = [noisy(3), noisy(0.5), noisy(3)];
  const w = greedyWeights(y, outputs, squared);
  assert.ok(Math.abs(sum(w) - 1) < 1e-12, `sum ${sum(w)}`);
  assert.ok(w[1] > 0.7, `the accurate member: ${w[1]}`);
  assert.ok(w[1] > w[0] && w[1] > w[2]);
  for (const v of w) assert.ok(v >= floor - 1e-12, `weight ${v} below ${floor}`);
  const losses = memberLosses(y, outputs, squared);
  assert.ok(losses[1] < losses[0] && losses[1] < losses[2]);
});

test('greedy selection finds the mix that cancels two opposite biases and keeps a third biased member at the minimum', () => {
  const above = y.map((v) => v + 1);
  const below = y.map((v) => v - 1);
  const far = y.map((v) => v + 5);
  const w = greedyWeights(y, [above, below, far], squared);
  const total = 3 + GREEDY_ROUNDS;
  const counts = w.map((v) => Math.round(v * total));
  assert.equal(counts[2], 1, 'the far member is never added');
  // The blend's bias is (counts[0] − counts[1] + 5 · counts[2]) / total: greedy drives it to within one step of 0.
  assert.ok(Math.abs(counts[0] - counts[1] + 5) <= 1, `counts ${counts.join(', ')}`);
});

test('classification: the log loss of the actual class picks the informative member over a constant one (binary and k classes)', () => {
  const labels = Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
  const informative = labels.map((v) => (v ? 0.8 : 0.1));
  const constant = new Float32Array(n).fill(0.3);
  const wb = greedyWeights(labels, [constant, informative], rowLoss('classification', 'roc_auc', 1));
  assert.ok(wb[1] > 0.9, `binary: ${wb.join(', ')}`);
  const k = 3;
  const classes = Float32Array.from({ length: n }, () => Math.floor(random() * k));
  const sure = new Float32Array(n * k).map((_, j) => (classes[Math.floor(j / k)] === j % k ? 0.8 : 0.1));
  const flat = new Float32Array(n * k).fill(1 / k);
  const wm = greedyWeights(classes, [flat, sure], rowLoss('classification', 'log_loss', k));
  assert.ok(wm[1] > 0.9, `multi-class: ${wm.join(', ')}`);
  assert.ok(Math.abs(sum(wm) - 1) < 1e-12);
});

test('regression with mae as the primary metric weighs by absolute error', () => {
  const absolute = rowLoss('regression', 'mae', 1);
  assert.equal(absolute(Float32Array.of(3), Float64Array.of(1), 0), 2);
  assert.equal(squared(Float32Array.of(3), Float64Array.of(1), 0), 4);
});

test('foldOf: every row held out exactly once, fold sizes within one, the same folds for the same seed', () => {
  const fold = foldOf(103, 5, 42);
  const sizes = [0, 1, 2, 3, 4].map((f) => fold.filter((v) => v === f).length);
  assert.equal(sum(sizes), 103);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes.join(', ')}`);
  assert.deepEqual(foldOf(103, 5, 42), fold);
  assert.notDeepEqual(foldOf(103, 5, 43), fold);
});
