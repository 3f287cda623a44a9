import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCpuStat, quotaMicros, statDelta } from './cgroup.ts';
import {
  counterTotal,
  growsWithCores,
  parseWorkerCounts,
  summarizeScaling,
  type ScalingTotals,
} from './scaling-summary.ts';

test('a quota is the cores times the period, never under the kernel minimum of 1 ms', () => {
  assert.equal(quotaMicros(0.3, 20_000), 6_000);
  assert.equal(quotaMicros(2, 100_000), 200_000);
  assert.equal(quotaMicros(0.01, 20_000), 1_000);
  assert.throws(() => quotaMicros(0, 20_000), /positive/);
  assert.throws(() => quotaMicros(Number.NaN, 20_000), /positive/);
});

test('cpu.stat reads in both cgroup versions: v1 throttled_time in ns, v2 throttled_usec in µs', () => {
  const v1 = 'nr_periods 120\nnr_throttled 114\nthrottled_time 2500000000\nnr_bursts 0\n';
  assert.deepEqual(parseCpuStat(v1), { periods: 120, throttled: 114, throttled_s: 2.5 });
  const v2 = 'usage_usec 900\nuser_usec 800\nsystem_usec 100\nnr_periods 50\nnr_throttled 5\nthrottled_usec 250000\n';
  assert.deepEqual(parseCpuStat(v2), { periods: 50, throttled: 5, throttled_s: 0.25 });
  assert.deepEqual(statDelta(parseCpuStat(v2), parseCpuStat(v1)), { periods: 70, throttled: 109, throttled_s: 2.25 });
});

test('worker counts are distinct positive integers, ascending; anything else is refused with the variable named', () => {
  assert.deepEqual(parseWorkerCounts('4, 1,2,2'), [1, 2, 4]);
  for (const bad of ['', '1,,2', '0,1', '1.5', 'two'])
    assert.throws(() => parseWorkerCounts(bad), /BENCH_SCALING_WORKERS=.*positive integers/);
});

const totals = (workers: number, responses: number, extra: Partial<ScalingTotals> = {}): ScalingTotals => ({
  workers,
  cores_given: workers * 0.3,
  wall_s: 10,
  responses,
  cpu_s: workers * 3,
  periods: 500,
  throttled: 450,
  predictions_counted: responses + 5,
  p50_ms: 1,
  p99_ms: 5,
  ...extra,
});

test('speed-up is over the fewest workers and efficiency is speed-up per core given', () => {
  const rows = summarizeScaling([totals(1, 30_000), totals(2, 57_000), totals(4, 96_000)]);
  assert.deepEqual(
    rows.map((r) => [r.rps, r.speedup, r.efficiency]),
    [
      [3000, 1, 1],
      [5700, 1.9, 0.95],
      [9600, 3.2, 0.8],
    ],
  );
  // 3 CPU s over 30,000 answers: 100 µs each; 0.3 cores used of 0.3 given; 450 of 500 periods throttled.
  assert.equal(rows[0].cpu_us_per_request, 100);
  assert.equal(rows[0].cores_used, 0.3);
  assert.equal(rows[0].throttled_share, 0.9);
  assert.equal(rows[0].counted_vs_answered, 1);
  assert.equal(growsWithCores(rows), true);
});

test('req/s that stalls or falls with more cores is not growth; unknown CPU and counters stay null', () => {
  const flat = summarizeScaling([totals(1, 30_000), totals(2, 30_000, { cpu_s: null, predictions_counted: null })]);
  assert.equal(growsWithCores(flat), false);
  assert.equal(flat[1].cpu_us_per_request, null);
  assert.equal(flat[1].counted_vs_answered, null);
  assert.equal(growsWithCores(summarizeScaling([totals(1, 30_000)])), false);
  // A lost worker's predictions show as counted below answered.
  assert.equal(summarizeScaling([totals(2, 1000, { predictions_counted: 500 })])[0].counted_vs_answered, 0.5);
});

test('a counter is summed over its label sets, and absent is null, not zero', () => {
  const text = [
    '# TYPE model_predictions_total counter',
    'model_predictions_total{model="flight-delay",label="1"} 10',
    'model_predictions_total{model="flight-delay",label="0"} 32',
    'model_predictions_total_created 17',
    'model_prediction_value_sum 3',
  ].join('\n');
  assert.equal(counterTotal(text, 'model_predictions_total'), 42);
  assert.equal(counterTotal(text, 'http_requests_total'), null);
});
