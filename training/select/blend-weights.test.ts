import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../core/platform/random.ts';
import { GREEDY_ROUNDS, greedyWeights, memberLosses, rowLoss, shrinkTowardBest } from './blend-weights.ts';
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

/** Three members sharing most of their error (`shared`), each with a little of its own (`own`). */
function correlated(rows: number, own: number, seed: number) {
  const r = seededRandom(seed);
  const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const t = Float32Array.from({ length: rows }, () => 20 + 5 * g());
  const shared = t.map(() => 2 * g());
  const member = (sd: number) => t.map((v, i) => v + shared[i] + sd * g());
  return { y: t, outputs: [member(own * 1.3), member(own), member(own * 1.3)] };
}

test('shrinkTowardBest: a gain over the best member inside one standard error goes back to that member; the same members on many rows keep the greedy weights', () => {
  const total = 3 + GREEDY_ROUNDS;
  // Few rows: mixing the members' own errors gains a little, less than the per-row noise of that gain.
  const few = correlated(60, 0.6, 5);
  const fewGreedy = greedyWeights(few.y, few.outputs, squared);
  const fewLosses = memberLosses(few.y, few.outputs, squared);
  const mixed = memberLosses(
    few.y,
    [Float32Array.from(few.outputs[0], (_, i) => fewGreedy.reduce((s, w, m) => s + w * few.outputs[m][i], 0))],
    squared,
  )[0];
  assert.ok(
    mixed < Math.min(...fewLosses),
    `the greedy blend beats every member on its rows: ${mixed} vs ${fewLosses.join(', ')}`,
  );
  const shrunk = shrinkTowardBest(few.y, few.outputs, squared, fewGreedy);
  assert.equal(shrunk.shrink.best, 1, 'the member with the lowest loss alone');
  assert.ok(shrunk.shrink.moved > 0);
  assert.deepEqual(
    shrunk.weights.map((w) => Math.round(w * total)),
    [1, total - 2, 1],
    `every copy it can move goes to the best member: ${shrunk.weights.join(', ')}`,
  );
  assert.ok(
    shrunk.shrink.after - shrunk.shrink.before <= shrunk.shrink.standardError + 1e-12,
    JSON.stringify(shrunk.shrink),
  );
  // Many rows: the same gain is many standard errors; the blend stays spread (a copy may move
  // where the loss is flat to within one step of the greedy grid).
  const many = correlated(6000, 0.6, 5);
  const manyGreedy = greedyWeights(many.y, many.outputs, squared);
  const kept = shrinkTowardBest(many.y, many.outputs, squared, manyGreedy);
  const copies = kept.weights.map((w) => Math.round(w * total));
  assert.ok(
    copies[0] >= 5 && copies[2] >= 5,
    `the other members keep their share: ${copies.join(', ')} (greedy ${manyGreedy.map((w) => Math.round(w * total)).join(', ')})`,
  );
  assert.ok(kept.shrink.moved <= 1, `moved ${kept.shrink.moved}`);
});

test('shrinkTowardBest: weights stay multiples of 1/(members + rounds), every member keeps one copy, and a stricter bound moves no more than a looser one', () => {
  const total = 3 + GREEDY_ROUNDS;
  const { y: t, outputs } = correlated(200, 0.8, 9);
  const greedy = greedyWeights(t, outputs, squared);
  const moved = [0, 0.5, 1, 2, 1e9].map((se) => {
    const r = shrinkTowardBest(t, outputs, squared, greedy, GREEDY_ROUNDS, se);
    assert.ok(Math.abs(sum(r.weights) - 1) < 1e-12);
    for (const w of r.weights) {
      assert.ok(Math.abs(w * total - Math.round(w * total)) < 1e-9, `weight ${w}`);
      assert.ok(w >= floor - 1e-12);
    }
    return r.shrink.moved;
  });
  for (let i = 1; i < moved.length; i++) assert.ok(moved[i] >= moved[i - 1], `moved ${moved.join(', ')}`);
  const losses = memberLosses(t, outputs, squared);
  const bestCopies = Math.round(greedy[losses.indexOf(Math.min(...losses))] * total);
  assert.equal(moved.at(-1), total - bestCopies - 2, 'without a bound every copy but one per other member moves');
});
