import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  childrenCpuSeconds,
  loadResultOfWrk,
  parseWrkOutput,
  uncorrectedHistogram,
  wrkScript,
  type WrkSummary,
} from './wrk.ts';

/** wrk's own coordinated-omission correction (stats_correct in its stats.c), on a sparse histogram. */
function correct(raw: Map<number, number>, e: number): [number, number][] {
  const out = new Map(raw);
  for (const [n, count] of [...raw].sort((a, b) => a[0] - b[0])) {
    if (n < 2 * e) continue;
    for (let m = n - e; m > e; m -= e) out.set(m, (out.get(m) ?? 0) + count);
  }
  return [...out].sort((a, b) => a[0] - b[0]);
}

test('the coordinated-omission samples wrk adds are taken out again, exactly', () => {
  // 2 connections, 10 requests over 5,000 µs: wrk's interval e = 5000 / (10 / 2) = 1000 µs.
  const raw = new Map([
    [300, 4],
    [900, 2],
    [1500, 1],
    [2500, 2],
    [4200, 1],
  ]);
  const corrected = correct(raw, 1000);
  assert.ok(corrected.reduce((n, [, c]) => n + c, 0) > 10, 'the correction added samples');
  const summary: WrkSummary = {
    requests: 10,
    duration_us: 5000,
    connect: 0,
    read: 0,
    write: 0,
    status: 0,
    timeout: 0,
    histogram: corrected,
  };
  assert.deepEqual(
    uncorrectedHistogram(summary, 2),
    [...raw].sort((a, b) => a[0] - b[0]),
  );
  const r = loadResultOfWrk(summary, 2);
  assert.equal(r.samples_ms.length, 10);
  assert.equal(r.rps, 2000);
  assert.equal(r.latency.max_ms, 4.2);
  assert.equal(r.latency.p50_ms, 0.9);
});

test('wrk output: the done hook line is found, its absence is an error that shows the output', () => {
  const out =
    'Running 1s test\n@@wrk-json {"requests":3,"duration_us":1000000,"connect":0,"read":1,"write":0,"status":1,"timeout":0,"histogram":[[100,3]]}\n0m0.01s 0m0.00s\n0m0.20s 0m0.05s\n';
  const s = parseWrkOutput(out);
  const r = loadResultOfWrk(s, 1);
  assert.equal(r.non2xx, 1);
  assert.equal(r.errors, 1);
  assert.equal(r.ok, 2);
  assert.equal(childrenCpuSeconds(out), 0.25);
  assert.throws(() => parseWrkOutput('connection refused'), /no summary[\s\S]*connection refused/);
});

test('the Lua script carries method, body and headers as string literals', () => {
  const lua = wrkScript({ body: '{"a":"b\\"c"}', headers: { authorization: 'Bearer x' } });
  assert.match(lua, /wrk\.method = "POST"/);
  assert.match(lua, /wrk\.body = "\{\\"a\\":\\"b\\\\\\"c\\"\}"/);
  assert.match(lua, /wrk\.headers\["content-type"\] = "application\/json"/);
  assert.match(lua, /wrk\.headers\["authorization"\] = "Bearer x"/);
});

test('wrk script with several bodies: a request function that takes each in turn', () => {
  const bodies = ['{"origin":"ATL"}', '{"origin":"JFK","note":"a \\"quoted\\" word"}'];
  const script = wrkScript({ method: 'POST', body: bodies[0], bodies });
  for (const b of bodies) assert.ok(script.includes(JSON.stringify(b)), `${b} is in the script as a Lua string`);
  assert.match(
    script,
    /request = function\(\)\n {2}next_body = next_body % #bodies \+ 1\n {2}return wrk\.format\(nil, nil, nil, bodies\[next_body\]\)/,
  );
  assert.doesNotMatch(wrkScript({ method: 'POST', body: bodies[0] }), /request = function/, 'one body: wrk.body alone');
});
