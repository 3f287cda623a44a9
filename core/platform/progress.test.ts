import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, formatSeconds } from './progress.ts';
import { memoryLogger } from './log.ts';

test('off a terminal: one line per interval with done/total, percent and an ETA from the rate so far', () => {
  const log = memoryLogger();
  let t = 0;
  const p = createProgress('scoring', 1000, { log, interactive: false, intervalMs: 5000, now: () => t });
  t = 1000;
  p.update(100); // before the interval: silent
  t = 10_000;
  p.update(250); // 250 rows in 10 s → 750 more take 30 s
  t = 12_000;
  p.update(300); // within the interval of the last line: silent
  t = 70_000;
  p.update(500); // 500 in 70 s → 70 s more
  p.finish();
  const msgs = log.lines.map((l) => (JSON.parse(l) as { msg: string; eta_s?: number }).msg);
  assert.deepEqual(msgs, ['scoring: 250/1000 rows (25%), eta 30s', 'scoring: 500/1000 rows (50%), eta 1m10s']);
});

test('no ETA before the first row, or when the total is unknown', () => {
  const log = memoryLogger();
  let t = 0;
  const p = createProgress('x', 0, { log, interactive: false, intervalMs: 1, now: () => t });
  t = 10;
  p.update(5);
  assert.match(log.lines[0], /"msg":"x: 5\/0 rows \(0%\)"/);
});

test('formatSeconds', () => {
  assert.equal(formatSeconds(9), '9s');
  assert.equal(formatSeconds(75), '1m15s');
  assert.equal(formatSeconds(3725), '1h02m');
});
