import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyTemperature,
  argmaxRows,
  confusionMatrix,
  fitTemperature,
  macroF1,
  macroRocAuc,
  multiclassAccuracy,
  multiclassBaselines,
  multiclassLogLoss,
  multiclassMetrics,
  perClass,
  topLabelEce,
} from './multiclass-metrics.ts';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('macro-F1, accuracy and per-class precision/recall match scikit-learn f1_score documented example', () => {
  // sklearn.metrics.f1_score docs: y_true [0,1,2,0,1,2], y_pred [0,2,1,0,0,1] → macro 0.2666…
  const y = [0, 1, 2, 0, 1, 2];
  const predicted = [0, 2, 1, 0, 0, 1];
  close(macroF1(y, predicted, 3), 0.26666666666666666);
  close(multiclassAccuracy(y, predicted), 1 / 3);
  const q = perClass(confusionMatrix(y, predicted, 3));
  assert.deepEqual(
    q.map((c) => [c.precision, c.recall, c.support]),
    [
      [2 / 3, 1, 2],
      [0, 0, 2],
      [0, 0, 2],
    ],
  );
});

// Computed with scikit-learn 1.2.1: log_loss(y, P) and roc_auc_score(y, P, multi_class='ovr', average='macro').
const Y = [0, 1, 2, 2, 1, 0, 2];
const P = [
  [0.7, 0.2, 0.1],
  [0.2, 0.5, 0.3],
  [0.1, 0.2, 0.7],
  [0.3, 0.3, 0.4],
  [0.5, 0.4, 0.1],
  [0.6, 0.3, 0.1],
  [0.2, 0.6, 0.2],
].flat();

test('log loss and macro one-vs-rest ROC-AUC match scikit-learn', () => {
  close(multiclassLogLoss(Y, P, 3), 0.7656202954836873, 1e-12);
  close(macroRocAuc(Y, P, 3), 0.9055555555555556, 1e-12);
});

test('argmax takes the first of tied classes; the confusion matrix counts actual × predicted', () => {
  assert.deepEqual(Array.from(argmaxRows([0.5, 0.5, 0, 0.1, 0.2, 0.7], 3)), [0, 2]);
  assert.deepEqual(confusionMatrix([0, 0, 1], [0, 1, 1], 2), [
    [1, 1],
    [0, 1],
  ]);
});

test('top-label ECE: |accuracy − confidence| per confidence bin, weighted by rows', () => {
  // Two rows at confidence 0.9 (one right, one wrong): bin 9 has accuracy 0.5, confidence 0.9 → 0.4.
  close(topLabelEce([0, 1], [0.9, 0.1, 0.9, 0.1], 2), 0.4);
  close(topLabelEce([0, 0], [0.9, 0.1, 0.9, 0.1], 2), 0.1);
});

test('temperature scaling keeps every row summing to 1 and its label; the fit lowers validation log loss', () => {
  // Over-confident scores: right 70 % of the time at confidence ~0.97.
  const k = 3;
  const y: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < 100; i++) {
    const actual = i % 3;
    const guess = i % 10 < 7 ? actual : (actual + 1) % 3;
    y.push(actual);
    p.push(...[0, 1, 2].map((c) => (c === guess ? 0.97 : 0.015)));
  }
  const t = fitTemperature(y, p, k);
  assert.ok(t > 1, `an over-confident model is softened (T = ${t})`);
  const scaled = applyTemperature(p, k, t);
  for (let r = 0; r < 100; r++) close(scaled[r * 3] + scaled[r * 3 + 1] + scaled[r * 3 + 2], 1, 1e-6);
  assert.deepEqual(Array.from(argmaxRows(scaled, k)), Array.from(argmaxRows(p, k)));
  assert.ok(multiclassLogLoss(y, scaled, k) < multiclassLogLoss(y, p, k));
  // Right 70 % at confidence c: log loss is smallest at c = 0.7.
  close(Math.max(...Array.from(scaled.subarray(0, 3))), 0.7, 0.01);
  assert.equal(
    Array.from(applyTemperature([0.2, 0.3, 0.5], 3, 1), (v) => Math.round(v * 1e6) / 1e6).join(),
    '0.2,0.3,0.5',
  );
});

test('baselines: the majority class of train for decisions, train class frequencies for probabilities', () => {
  const classes = ['a', 'b', 'c'];
  const yTrain = [0, 0, 0, 1, 2, 2];
  const yTest = [0, 1, 2, 2];
  const b = multiclassBaselines(yTrain, yTest, classes);
  assert.equal(b.majority_class.class, 'a');
  close(b.majority_class.accuracy, 0.25);
  // Predicting "a" always: F1 of a = 2·(1/4·1)/(1/4+1) = 0.4; b and c 0 → macro over the 3 present classes.
  close(b.majority_class.macro_f1, 0.4 / 3);
  close(b.class_prior.log_loss, -(Math.log(0.5) + Math.log(1 / 6) + 2 * Math.log(1 / 3)) / 4, 1e-6); // float32 probabilities
  close(b.class_prior.roc_auc, 0.5);
});

test('multiclassMetrics keys per-class figures by class name', () => {
  const m = multiclassMetrics(Y, P, ['x', 'y', 'z']);
  assert.deepEqual(Object.keys(m.per_class), ['x', 'y', 'z']);
  close(m.log_loss, 0.7656202954836873, 1e-12);
  assert.equal(m.per_class.x.support, 2);
});
