import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feedbackClass, liveMulticlass, multiclassAnswer } from './multiclass.ts';

const classes = ['drizzle', 'fog', 'rain'];

test('a multi-class answer names the most likely class and every probability by class', () => {
  assert.deepEqual(multiclassAnswer(classes, [0.1, 0.2, 0.7]), {
    label: 'rain',
    probability: 0.7,
    probabilities: { drizzle: 0.1, fog: 0.2, rain: 0.7 },
  });
});

test('feedback labels: class names (multi-class), the positive class or 0/1 (binary by label), else what is accepted', () => {
  const multi = { column: 'weather', type: 'classification' as const, classes };
  assert.deepEqual(feedbackClass(multi, 'fog'), { index: 1 });
  assert.deepEqual(feedbackClass(multi, 'hail'), {
    index: null,
    reason: '"label" must be one of "drizzle", "fog", "rain"',
  });
  const binary = { column: 'weather', type: 'classification' as const, positive_class: 'rain' };
  assert.deepEqual(feedbackClass(binary, 'rain'), { index: 1 });
  assert.deepEqual(feedbackClass(binary, 'sun'), { index: 0 });
  assert.deepEqual(feedbackClass(binary, 1), { index: 1 });
  const threshold = { column: 'delay', type: 'classification' as const, positive_above: 15 };
  assert.equal(feedbackClass(threshold, 'late').index, null);
});

test('live multi-class quality: accuracy and macro-F1 over joined class indices', () => {
  const live = liveMulticlass(
    { actual: Float64Array.from([0, 1, 2, 2]), predicted: Float64Array.from([0, 1, 2, 1]) },
    classes,
  );
  assert.equal(live!.accuracy, 0.75);
  // F1: drizzle 1, fog 2·(0.5·1)/(1.5) = 2/3, rain 2·(1·0.5)/1.5 = 2/3.
  assert.ok(Math.abs(live!.macro_f1 - (1 + 4 / 3) / 3) < 1e-12);
  assert.equal(liveMulticlass({ actual: new Float64Array(0), predicted: new Float64Array(0) }, classes), null);
});
