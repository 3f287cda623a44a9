import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classIndex, encodeTarget, fitClasses, fitTargetSpec, labelText } from './targets.ts';
import type { Column } from '../data/table.ts';

const text = (values: (string | null)[]): Column => {
  const dict = [...new Set(values.filter((v): v is string => v !== null))];
  return { type: 'string', dict, codes: Int32Array.from(values, (v) => (v === null ? -1 : dict.indexOf(v))) };
};
const numbers = (values: number[]): Column => ({ type: 'number', values: Float64Array.from(values) });

test('positive_class labels text, booleans written as true/false and integer codes', () => {
  const weather = text(['rain', 'sun', 'rain', 'fog']);
  const spec = fitTargetSpec({ type: 'classification', target: 'weather', positive_class: 'rain' }, weather);
  assert.deepEqual(Array.from(encodeTarget(spec, weather)), [1, 0, 1, 0]);
  const flag = text(['true', 'false', 'true']);
  const yes = fitTargetSpec({ type: 'classification', target: 'late', positive_class: true }, flag);
  assert.equal(yes.positive_class, 'true');
  assert.deepEqual(Array.from(encodeTarget(yes, flag)), [1, 0, 1]);
  const codes = numbers([3, 1, 3]);
  const three = fitTargetSpec({ type: 'classification', target: 'grade', positive_class: 3 }, codes);
  assert.deepEqual(Array.from(encodeTarget(three, codes)), [1, 0, 1]);
});

test('a positive_class the training split never holds stops with the key, the value, the labels seen and the fix', () => {
  assert.throws(
    () => fitTargetSpec({ type: 'classification', target: 'weather', positive_class: 'Rain' }, text(['rain', 'sun'])),
    /task\.positive_class = "Rain": target "weather" never holds "Rain" in the training split \(its labels: rain, sun\); set task\.positive_class/,
  );
});

test('classes: auto fits a sorted vocabulary (integers in numeric order) and encodes labels as indices', () => {
  const weather = text(['sun', 'rain', 'fog', 'sun', 'drizzle']);
  const spec = fitTargetSpec({ type: 'classification', target: 'weather', classes: 'auto' }, weather);
  assert.deepEqual(spec.classes, ['drizzle', 'fog', 'rain', 'sun']);
  assert.deepEqual(Array.from(encodeTarget(spec, weather)), [3, 2, 1, 3, 0]);
  assert.deepEqual(fitClasses('n', numbers([10, 2, 1, 2])), ['1', '2', '10']);
  assert.equal(classIndex(spec, 'fog'), 1);
  assert.equal(classIndex(spec, 'hail'), null);
  assert.throws(() => fitClasses('weather', text(['a', 'b', 'a'])), /at least 3 classes.*task\.positive_class/);
});

test('a label unseen in training or a missing label stops naming the row and the fix', () => {
  const spec = fitTargetSpec({ type: 'classification', target: 'w', classes: 'auto' }, text(['a', 'b', 'c']));
  assert.throws(() => encodeTarget(spec, text(['a', 'd'])), /label "d" at row 1, which the training split never shows/);
  assert.throws(() => encodeTarget(spec, text(['a', null])), /missing at row 1; mark it required/);
});

test('numeric thresholds and regression are as before; text without a label key says which key to set', () => {
  const delay = numbers([20, 5, 15.5]);
  assert.deepEqual(
    Array.from(encodeTarget({ column: 'delay', type: 'classification', positive_above: 15 }, delay)),
    [1, 0, 1],
  );
  assert.deepEqual(Array.from(encodeTarget({ column: 'delay', type: 'regression' }, delay)), [20, 5, 15.5]);
  assert.throws(
    () => encodeTarget({ column: 'w', type: 'classification', positive_above: 0 }, text(['a'])),
    /task\.positive_class .* or task\.classes: auto/,
  );
  assert.equal(labelText(true), 'true');
  assert.equal(labelText(' rain '), 'rain');
});
