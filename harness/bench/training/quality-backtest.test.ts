import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backtestMean,
  backtestRow,
  backtestTable,
  cutsNotBelowConstant,
  restrictRows,
  rowShare,
  type BacktestRow,
} from './quality-backtest.ts';
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

test('backtest: our test log loss beside the constant baseline per cut, a cut not below it flagged', () => {
  const run = (oursLogLoss: number) => ({
    lines: [{ train: 900, validation: 100, test: 200 }],
    ours: { roc_auc: 0.7, log_loss: oursLogLoss },
    references: [{ model: 'sklearn HGB tuned', roc_auc: 0.69, log_loss: 0.45, fit_s: 3 }],
    trainWallS: 5,
    selected: 'gbdt',
    baseline: { log_loss: 0.48 },
  });
  const good = backtestRow(run(0.44), 'classification', '2001-02-01', '2001-03-01');
  const bad = backtestRow(run(0.48), 'classification', '2001-03-01', 'end');
  assert.equal(good.log_loss_constant, 0.48);
  assert.equal(good.log_loss_below_constant, true);
  assert.equal(bad.log_loss_below_constant, false, 'equal to the constant is not below it');
  assert.deepEqual(cutsNotBelowConstant([good, bad]), ['2001-03-01']);
  const table = backtestTable([good, bad], 'classification').split('\n');
  assert.match(table[0], /\| ours − tuned \| ours log loss \| constant log loss \|$/);
  assert.equal(table[1].split('|').length - 2, 7, 'one rule cell per column');
  assert.match(table[2], /\| \+0\.0100 \| 0\.4400 \| 0\.4800 \|$/);
  assert.match(table[3], /\| 0\.4800 \*\*not below\*\* \| 0\.4800 \|$/);
  // Regression rows carry no log loss: no such columns.
  const reg = backtestRow(
    { ...run(0.44), ours: { mae: 16, rmse: 30 }, references: [] },
    'regression',
    '2001-02-01',
    'end',
  );
  assert.equal(reg.log_loss_below_constant, undefined);
  assert.doesNotMatch(backtestTable([reg], 'regression'), /log loss/);
});
