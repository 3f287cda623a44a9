import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backtestMean, backtestTable, restrictRows, rowShare, type BacktestRow } from './quality-backtest.ts';
import { makeTable } from '../../../core/data/table.ts';

test('restrictRows keeps [from, until) and a stable share of the rows', () => {
  const days = Float64Array.from({ length: 10 }, (_, i) => Date.UTC(2001, 0, 1 + i));
  const t = makeTable({ date: { type: 'timestamp', values: days } });
  const cut = restrictRows(t, 'date', { from: Date.UTC(2001, 0, 3), until: Date.UTC(2001, 0, 6) });
  assert.deepEqual(Array.from((cut.columns.date as { values: Float64Array }).values), Array.from(days.slice(2, 5)));
  const half = restrictRows(t, 'date', { sample: 0.5 });
  const expected = [...days.keys()].filter((i) => rowShare(i) < 0.5);
  assert.equal(half.length, expected.length);
  assert.ok(expected.length > 0 && expected.length < 10);
  assert.equal(restrictRows(t, 'date', {}), t);
  assert.throws(() => restrictRows(t, 'nope', {}), /nope is not a timestamp column/);
});

const row = (cut: string, ours: number, tuned: number): BacktestRow => ({
  cut,
  test_until: 'end',
  rows_train: 1000,
  rows_test: 100,
  ours: 'wide_deep',
  ours_train_s: 1,
  models: { ours: { metric: ours, fit_s: 1 }, 'HGB tuned': { metric: tuned, fit_s: 2 } },
  ours_minus_tuned: +(ours - tuned).toFixed(4),
});

test('backtest mean and table: per-model means and ours − tuned per cut', () => {
  const rows = [row('2001-02-01', 0.7, 0.75), row('2001-03-01', 0.8, 0.75)];
  assert.deepEqual(backtestMean(rows), { ours: 0.75, 'HGB tuned': 0.75, ours_minus_tuned: 0 });
  const table = backtestTable(rows, 'classification').split('\n');
  assert.equal(table[2], '| 2001-02-01 → end | 1,000 | 0.7000 (1) | 0.7500 (2) | -0.0500 |');
  assert.equal(table[4], '| **mean** | | 0.7500 | 0.7500 | +0.0000 |');
});
