import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asPlainObject, isPlainObject, sectionOf } from './objects.ts';

test('isPlainObject accepts objects only: not null, arrays, strings or numbers', () => {
  assert.equal(isPlainObject({ a: 1 }), true);
  assert.equal(isPlainObject(Object.create(null)), true);
  for (const v of [null, undefined, [], [1], 'x', 3, true]) assert.equal(isPlainObject(v), false, String(v));
});

test('asPlainObject and sectionOf give an empty object for anything else', () => {
  const o = { a: 1 };
  assert.equal(asPlainObject(o), o);
  assert.deepEqual(asPlainObject([1, 2]), {});
  assert.deepEqual(sectionOf({ task: { type: 'regression' } }, 'task'), { type: 'regression' });
  assert.deepEqual(sectionOf({ task: ['x'] }, 'task'), {});
  assert.deepEqual(sectionOf(null, 'task'), {});
  assert.deepEqual(sectionOf({}, 'task'), {});
});
