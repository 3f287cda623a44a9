import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorRate, median, percentile, summarizeLatencies, timeline } from './stats.ts';
import { composeBenchDocument, DEFAULT_TARGETS } from './document.ts';
import { mergeLoadResults, type LoadResult } from './load.ts';
import { distinctRecords, FALLBACK_RECORD, findField, recordFromModelInfo, tableRecords } from './model-info.ts';
import { recordsToTable } from '../../../core/data/records.ts';
import { explainFailure, envNumber, REAL_API_NAME } from './cli.ts';
import { ServerNotReadyError } from './server-process.ts';

test('percentile is nearest-rank on the sorted samples', () => {
  const xs = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.deepEqual(summarizeLatencies([3, 1, 2, 4]), { p50_ms: 2, p90_ms: 4, p99_ms: 4, max_ms: 4, mean_ms: 2.5 });
});

test('timeline buckets whole seconds, counts errors, and drops a last sliver of a second', () => {
  const events = [
    { atMs: 100, latencyMs: 1, status: 200 },
    { atMs: 900, latencyMs: 3, status: 500 },
    { atMs: 1_500, latencyMs: 2, status: 200 },
    { atMs: 2_050, latencyMs: 9, status: 200 },
  ];
  const t = timeline(events, [1_200], 2.1);
  assert.equal(t.length, 2, 'the 0.1 s tail is not a second of its own');
  assert.deepEqual(t[0], { t: 0, rps: 2, ok: 1, non2xx: 1, errors: 0, p50_ms: 1, p99_ms: 3 });
  assert.equal(t[1].errors, 1);
  assert.equal(t[1].ok, 1);
  const half = timeline(events, [], 2.5);
  assert.equal(half.length, 3);
  assert.equal(half[2].rps, 2, 'one response in the last half second is 2 per second');
});

test('error rate counts non-2xx answers and connection errors over all attempts', () => {
  assert.equal(errorRate({ responses: 998, non2xx: 1, errors: 2 }), 3 / 1000);
  assert.equal(errorRate({ responses: 0, non2xx: 0, errors: 0 }), 0);
});

function fakeRun(latencies: number[], durationS: number, extra: Partial<LoadResult> = {}): LoadResult {
  const samples = Float64Array.from(latencies);
  return {
    connections: 32,
    duration_s: durationS,
    responses: latencies.length,
    ok: latencies.length,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    error_rate: 0,
    rps: Math.round(latencies.length / durationS),
    latency: summarizeLatencies(samples),
    status_codes: { 200: latencies.length },
    timeline: [{ t: 0, rps: latencies.length, ok: latencies.length, non2xx: 0, errors: 0, p50_ms: 1, p99_ms: 1 }],
    samples_ms: samples,
    ...extra,
  };
}

test('merged rounds: counts add up, percentiles come from all samples, timelines follow each other', () => {
  const m = mergeLoadResults([fakeRun([1, 2], 1), fakeRun([3, 4, 5, 6], 1)]);
  assert.equal(m.responses, 6);
  assert.equal(m.rps, 3);
  assert.equal(m.latency.max_ms, 6);
  assert.equal(m.latency.p50_ms, 3);
  assert.deepEqual(m.status_codes, { 200: 6 });
  assert.deepEqual(
    m.timeline.map((s) => s.t),
    [0, 1],
  );
});

test('bench document: ratios, CPU per request, workers, auth cost and every target verdict', () => {
  const real = fakeRun([2, 4, 30], 1, { rps: 900 });
  const trivial = fakeRun([1, 1, 1], 1, { rps: 1000 });
  const batch = fakeRun([1, 1.5, 7], 1, { rps: 150 });
  const authed = fakeRun([3, 5, 31], 1, { rps: 855 });
  const doc = composeBenchDocument({
    settings: {},
    machine: {},
    real,
    trivial,
    batch100: batch,
    auth: { result: authed, enforced: true, unauthenticatedStatus: 401 },
    cpuUsPerRequest: { real: 30, trivial: 24, auth: 31 },
    workers: { count: 2, result: fakeRun([1, 2, 3], 1, { rps: 1620 }), cpuUsPerRequest: 33 },
  });
  assert.equal(doc.ratio_real_vs_trivial_rps, 0.9);
  assert.deepEqual(doc.targets.ratio_real_vs_trivial_rps, {
    value: 0.9,
    target: `>= ${DEFAULT_TARGETS.ratioMin}`,
    pass: true,
  });
  assert.equal(doc.targets.ratio_real_vs_trivial_p99.pass, false, 'a p99 30 times the trivial one');
  assert.deepEqual(doc.targets.ratio_real_vs_trivial_cpu, { value: 1.25, target: '<= 1.5', pass: true });
  // The authenticated API is held to the same targets.
  assert.equal(doc.targets.ratio_auth_vs_trivial_rps?.value, 0.855);
  assert.equal(doc.targets.ratio_auth_vs_trivial_rps?.pass, true);
  assert.equal(doc.targets.ratio_auth_vs_trivial_p99?.pass, false);
  assert.deepEqual(doc.targets.ratio_auth_vs_trivial_cpu, { value: 1.292, target: '<= 1.5', pass: true });
  assert.equal(doc.cpu_us_per_request?.ratio_auth_vs_trivial, 1.292);
  assert.equal(doc.workers?.rps_vs_one_process, 1.8);
  assert.equal(doc.workers?.cpu_us_per_request, 33);
  assert.equal(doc.targets.batch100_p50_ms.value, 1.5);
  assert.equal(doc.targets.batch100_p50_ms.pass, true);
  assert.equal(doc.pass, false);
  assert.deepEqual(doc.auth?.cost, { rps_change_pct: -5, p50_added_ms: 1, p99_added_ms: 1 });
  assert.equal(doc.batch100?.instances_per_s, 15_000);
  assert.ok(!('samples_ms' in doc.real), 'raw samples stay out of the document');
  // With the trivial server's run under the same token header, the auth ratios are taken against it.
  const trivialWithHeader = fakeRun([1, 1, 2], 1, { rps: 950 });
  const fair = composeBenchDocument({
    settings: {},
    machine: {},
    real,
    trivial,
    batch100: batch,
    auth: { result: authed, reference: trivialWithHeader, enforced: true, unauthenticatedStatus: 401 },
    cpuUsPerRequest: { real: 30, trivial: 24, auth: 31, trivialAuth: 25 },
  });
  assert.equal(fair.targets.ratio_auth_vs_trivial_rps?.value, 0.9);
  assert.equal(fair.targets.ratio_auth_vs_trivial_cpu?.value, 1.24);
  assert.equal(fair.targets.ratio_real_vs_trivial_rps.value, 0.9, 'the no-token ratio is unchanged');
  assert.deepEqual(fair.auth?.header_cost_on_trivial, { rps_change_pct: -5, p50_added_ms: 0, p99_added_ms: 1 });
  assert.equal(fair.auth?.trivial_with_token_header?.rps, 950);
  assert.equal(doc.auth?.header_cost_on_trivial, null);
  const noBatch = composeBenchDocument({ settings: {}, machine: {}, real, trivial, batch100: null, auth: null });
  assert.equal(noBatch.targets.batch100_p50_ms.pass, false, 'an unmeasured target does not pass');
  assert.ok(!('ratio_real_vs_trivial_cpu' in noBatch.targets), 'no CPU target where /proc could not tell');
});

test('request record from the model description: defaults, fallback per field, fallback record', () => {
  const info = {
    version: 3,
    runtime: { backend: 'wasm' },
    inputs: [{ name: 'distance', default: 500 }, { name: 'origin', default: null }, { name: 'extra' }],
  };
  assert.deepEqual(recordFromModelInfo(info), { distance: 500, origin: 'ATL' });
  assert.deepEqual(recordFromModelInfo(null), FALLBACK_RECORD);
  assert.deepEqual(recordFromModelInfo({ inputs: 'nope' }), FALLBACK_RECORD);
  assert.equal(findField(info, 'backend'), 'wasm');
  assert.equal(findField(info, 'version'), 3);
  assert.equal(findField(info, 'missing'), null);
});

test('distinct records: every input varied within what the model description allows, the same for a seed', () => {
  const info = {
    inputs: [
      { name: 'date', type: 'timestamp', min: '2000-01-01', max: '2030-12-31', default: '2001-01-08T19:03:00.000Z' },
      { name: 'distance', type: 'number', min: 1, max: 6000, default: 209 },
      { name: 'ratio', type: 'number', min: 0, max: 1, default: 0.5 },
      { name: 'origin', type: 'category', categories: ['ATL', 'JFK', 'SYR'], default: 'JFK' },
      { name: 'note', type: 'string', default: 'x' },
    ],
  };
  const records = distinctRecords(info, 500);
  assert.equal(records.length, 500);
  assert.equal(new Set(records.map((r) => JSON.stringify(r))).size, 500, 'no two the same');
  const from = Date.parse('2000-01-01');
  for (const r of records) {
    const t = Date.parse(String(r.date));
    assert.ok(t >= from && t < from + 366 * 86_400_000, `date ${String(r.date)}`);
    assert.ok(Number.isInteger(r.distance) && (r.distance as number) >= 1 && (r.distance as number) <= 6000);
    assert.ok((r.ratio as number) >= 0 && (r.ratio as number) <= 1);
    assert.ok(['ATL', 'JFK', 'SYR'].includes(r.origin as string));
    assert.equal(r.note, 'x', 'an input without a range or a list keeps its default');
  }
  assert.equal(new Set(records.map((r) => r.origin)).size, 3, 'every category is drawn');
  assert.ok(!records.every((r) => Number.isInteger(r.ratio)), 'a fractional default gives fractional values');
  assert.deepEqual(distinctRecords(info, 20), records.slice(0, 20), 'the same seed, the same records');
  assert.notDeepEqual(distinctRecords(info, 20, 8), records.slice(0, 20));
});

test('records of a table: the inputs the model names, timestamps as ISO strings, rows missing one left out', () => {
  const { table } = recordsToTable(
    [
      { date: '2001-03-04T05:06:00.000Z', distance: 733, origin: 'ATL', delay: 3 },
      { date: '2001-03-05T05:06:00.000Z', origin: 'JFK', delay: 1 },
      { date: '2001-03-06T07:08:00.000Z', distance: 210, origin: 'SYR', delay: 0 },
      { date: '2001-03-07T07:08:00.000Z', distance: 300, delay: 0 },
    ],
    {
      date: { type: 'timestamp', required: false },
      distance: { type: 'number', required: false },
      origin: { type: 'category', required: false },
      delay: { type: 'number', required: false },
    },
  );
  const info = { inputs: [{ name: 'date' }, { name: 'distance' }, { name: 'origin' }] };
  assert.deepEqual(tableRecords(table, info, 10), [
    { date: '2001-03-04T05:06:00.000Z', distance: 733, origin: 'ATL' },
    { date: '2001-03-06T07:08:00.000Z', distance: 210, origin: 'SYR' },
  ]);
  assert.equal(tableRecords(table, info, 1).length, 1, 'at most n');
  assert.deepEqual(tableRecords(table, { inputs: [{ name: 'nope' }] }, 10), [], 'an input the table lacks: none');
});

test('numeric settings from the environment fall back on unset, empty or non-positive values', () => {
  assert.equal(envNumber('X', 5, { X: '12' }), 12);
  assert.equal(envNumber('X', 5, { X: '2.5' }), 2.5);
  for (const bad of [undefined, '', ' ', '0', '-3', 'abc']) assert.equal(envNumber('X', 5, { X: bad }), 5, String(bad));
});

test('a real API that never got ready is explained with the server output and the `npm start` hint', () => {
  const message = (err: unknown) => (err as Error).message;
  const msg = message(
    explainFailure(
      new ServerNotReadyError(`${REAL_API_NAME} (api/server.ts) was not ready after 60 s`, 'no production version'),
    ),
  );
  assert.match(msg, /no production version/);
  assert.match(msg, /run `npm start` first/);
  assert.doesNotMatch(
    message(explainFailure(new ServerNotReadyError('trivial server exited (code 1)', ''))),
    /npm start/,
  );
  // Any other error is reported as it is (`<command>: <message>`, core/platform/cli.ts).
  const boom = new Error('boom');
  assert.equal(explainFailure(boom), boom);
});

test('median of per-slice figures: an outlier slice does not move it', () => {
  assert.equal(median([90, 88, 225, 91, 87]), 90);
  assert.equal(median([80.2, 80.4, 300, 79]), 80.3);
  assert.equal(median([]), null);
});
