import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as m from './quality-metrics.ts';
import { closeTo } from '../../harness/testing/approx.ts';

const close = closeTo(1e-9);

test('ROC-AUC and average precision: the scikit-learn documentation example', () => {
  const y = [0, 0, 1, 1];
  const p = [0.1, 0.4, 0.35, 0.8];
  close(m.rocAuc(y, p), 0.75);
  close(m.averagePrecision(y, p), 0.8333333333333333);
});

test('ROC-AUC counts tied scores half and is undefined with one class', () => {
  close(m.rocAuc([0, 1], [0.5, 0.5]), 0.5);
  close(m.rocAuc([0, 1, 1], [0.2, 0.2, 0.9]), 0.75); // one clean win, one tie (½) over 2 pairs
  assert.ok(Number.isNaN(m.rocAuc([1, 1], [0.2, 0.3])));
  close(m.rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
});

test('log loss: the scikit-learn documentation example (spam/ham)', () => {
  // P(spam) = 0.9, 0.1, 0.2, 0.65 for truths spam, ham, ham, spam → −(ln .9 + ln .9 + ln .8 + ln .65)/4
  close(m.logLoss([1, 0, 0, 1], [0.9, 0.1, 0.2, 0.65]), 0.21616187468057912, 1e-12);
  assert.ok(Number.isFinite(m.logLoss([1], [0])), 'probabilities are clipped');
});

test('confusion-based metrics by hand and 0/0 reported as 0', () => {
  // y: 1 1 1 0 0 0 0 ; p≥0.5: 1 1 0 1 0 0 0 → tp 2, fn 1, fp 1, tn 3
  const c = m.confusion([1, 1, 1, 0, 0, 0, 0], [0.9, 0.6, 0.4, 0.7, 0.1, 0.2, 0.3], 0.5);
  assert.deepEqual(c, { tp: 2, fp: 1, tn: 3, fn: 1 });
  close(m.precision(c), 2 / 3);
  close(m.recall(c), 2 / 3);
  close(m.f1(c), 2 / 3);
  close(m.accuracy(c), 5 / 7);
  assert.equal(m.precision({ tp: 0, fp: 0, tn: 3, fn: 1 }), 0);
});

test('best F1 threshold by hand', () => {
  // thresholds 0.8: tp1 fp0 → F1 2/3 (P=2); 0.6: tp1 fp1 → 1/2; 0.4: tp2 fp1 → 4/5; 0.1: tp2 fp2 → 2/3
  const r = m.bestF1Threshold([1, 0, 1, 0], [0.8, 0.6, 0.4, 0.1]);
  assert.equal(r.threshold, 0.4);
  close(r.f1, 0.8);
});

test('ROC and PR curves start and end where they must', () => {
  const roc = m.rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
  assert.deepEqual(roc[0], { fpr: 0, tpr: 0, threshold: Infinity });
  assert.deepEqual(roc.at(-1)!.fpr, 1);
  assert.deepEqual(roc.at(-1)!.tpr, 1);
  const pr = m.prCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
  assert.deepEqual(pr[0], { recall: 0.5, precision: 1, threshold: 0.8 });
});

test('calibration bins hold mean prediction and observed rate', () => {
  const cal = m.calibrationCurve([0, 1, 1, 0], [0.05, 0.15, 0.95, 0.91], 10);
  assert.deepEqual(
    cal.map((b) => [b.bin, b.count, b.fraction_positive]),
    [
      [0, 1, 0],
      [1, 1, 1],
      [9, 2, 0.5],
    ],
  );
  close(cal[2].mean_predicted, 0.93);
});

test('regression: the scikit-learn documentation example', () => {
  const y = [3, -0.5, 2, 7];
  const yhat = [2.5, 0.0, 2, 8];
  close(m.mae(y, yhat), 0.5);
  close(m.rmse(y, yhat), Math.sqrt(0.375));
  close(m.r2(y, yhat), 0.9486081370449679, 1e-12);
});

test('sMAPE is defined at a zero target and is 0 for perfect predictions', () => {
  close(m.smape([0, 10], [0, 10]), 0);
  close(m.smape([0], [5]), 2); // |0−5| / ((0+5)/2)
  close(m.smape([100, 50], [110, 50]), 10 / 105 / 2);
});
