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

test('the canonical toISOString form reads back to its instant; impossible ones are NaN as in the general form', () => {
  let seed = 7;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 2000; i++) {
    const ms = Math.floor(next() * Date.UTC(2100, 0, 1));
    assert.equal(parseTimestamp(new Date(ms).toISOString()), ms);
  }
  assert.equal(parseTimestamp('2000-02-29T12:00:00.000Z'), Date.UTC(2000, 1, 29, 12));
  for (const bad of [
    '2001-02-29T00:00:00.000Z',
    '1900-02-29T00:00:00.000Z',
    '2001-04-31T00:00:00.000Z',
    '2001-00-10T00:00:00.000Z',
    '2001-01-01T24:00:00.000Z',
    '2001-01-01T23:60:00.000Z',
    '2001-01-01T23:00:60.000Z',
    '0050-01-01T00:00:00.000Z',
    '2001-01-01T00:00:00.0a0Z',
  ])
    assert.ok(Number.isNaN(parseTimestamp(bad)), bad);
});
