import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimestamp } from './time.ts';

test('parses dates and date-times as UTC wall clock', () => {
  assert.equal(parseTimestamp('2001-01-01'), Date.UTC(2001, 0, 1));
  assert.equal(parseTimestamp('2001-01-01 00:01'), Date.UTC(2001, 0, 1, 0, 1));
  assert.equal(parseTimestamp('2001-06-30T23:59:59.5Z'), Date.UTC(2001, 5, 30, 23, 59, 59, 500));
  assert.equal(parseTimestamp('2001-01-01T02:00:00+02:00'), Date.UTC(2001, 0, 1, 0, 0));
});

test('rejects impossible and non-date text', () => {
  for (const bad of ['2001-02-30', '2001-13-01', '2001-01-01 24:00', 'yesterday', '', '01/02/2001'])
    assert.ok(Number.isNaN(parseTimestamp(bad)), bad);
});

test('time-zone offsets are accepted within ±14:00 only', () => {
  assert.equal(parseTimestamp('2001-01-01T14:00:00+14:00'), Date.UTC(2001, 0, 1, 0, 0));
  assert.equal(parseTimestamp('2001-01-01T00:00:00-1400'), Date.UTC(2001, 0, 1, 14, 0));
  assert.equal(parseTimestamp('2001-01-01T00:00:00+05:45'), Date.UTC(2000, 11, 31, 18, 15));
  for (const bad of [
    '2001-01-01T00:00:00+99:99',
    '2001-01-01T00:00:00+14:01',
    '2001-01-01T00:00:00-15:00',
    '2001-01-01T00:00:00+01:60',
  ])
    assert.ok(Number.isNaN(parseTimestamp(bad)), bad);
});
