import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minuteOfDay, MINUTE_OF_DAY_CYCLE } from './time-of-day.ts';

test('minute of day: UTC hours × 60 + minutes', () => {
  assert.equal(minuteOfDay(new Date(Date.UTC(2001, 0, 1, 0, 0))), 0);
  assert.equal(minuteOfDay(new Date(Date.UTC(2001, 0, 1, 14, 35, 59))), 875);
  assert.equal(minuteOfDay(new Date(Date.UTC(2001, 0, 1, 23, 59))), 1439);
});

test('minute of day: one cycle is 1440 distinct minutes', () => {
  assert.equal(MINUTE_OF_DAY_CYCLE.perCycle, 1440);
  // 14:35:00 and 14:35:59 are one unit, 14:36 the next.
  const a = MINUTE_OF_DAY_CYCLE.unit(Date.UTC(2001, 0, 1, 14, 35));
  assert.equal(MINUTE_OF_DAY_CYCLE.unit(Date.UTC(2001, 0, 1, 14, 35, 59)), a);
  assert.equal(MINUTE_OF_DAY_CYCLE.unit(Date.UTC(2001, 0, 1, 14, 36)), a + 1);
});
