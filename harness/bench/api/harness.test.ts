/**
 * The bench harness end to end against the trivial server only (the real API's runs take minutes
 * and need a trained model; they are `npm run bench:api` and `npm run loadtest`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { composeBenchDocument } from './document.ts';
import { runLoad } from './load.ts';
import { checkRequest, fetchModelFacts, FALLBACK_RECORD } from './model-info.ts';
import { ServerNotReadyError, startServer, TRIVIAL_SERVER_SCRIPT, withServer } from './server-process.ts';

test(
  'trivial server under a 2-second autocannon run gives a complete bench document',
  { timeout: 30_000 },
  async () => {
    await withServer({ name: 'trivial server', script: TRIVIAL_SERVER_SCRIPT }, async (server) => {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const facts = await fetchModelFacts(server.url);
      assert.deepEqual(facts.record, FALLBACK_RECORD);
      assert.equal(facts.backend, 'none');
      const body = JSON.stringify(facts.record);

      const answer = await checkRequest(`${server.url}/predict`, body);
      assert.equal(answer.status, 200);
      assert.ok(answer.bytes > 150 && answer.bytes < 250, `answer of ${answer.bytes} bytes, like the real API's`);
      assert.equal((await checkRequest(`${server.url}/predict`, '{nope')).status, 400);
      const batch = await checkRequest(
        `${server.url}/v1/models/flight-delay:predict`,
        JSON.stringify({ instances: [facts.record, facts.record] }),
      );
      assert.equal((JSON.parse(batch.text) as { predictions: unknown[] }).predictions.length, 2);

      const started = performance.now();
      const run = await runLoad({ url: server.url, path: '/predict', body, connections: 8, durationS: 2 });
      const elapsedS = (performance.now() - started) / 1000;
      // Only what a slow or busy machine cannot break: the run's stop timer never fires early (0.1 s
      // for the event loop's cached clock), so the call lasts at least the requested 2 s; how much
      // longer, and how many answers fit in, depends on the machine and is the benchmark's business.
      assert.ok(elapsedS >= 2 - 0.1, `the run ended ${elapsedS.toFixed(3)} s after it started`);
      // Its duration is measured to the last answer, inside the call.
      assert.ok(
        run.duration_s > 0 && run.duration_s <= elapsedS + 0.001,
        `duration ${run.duration_s} of ${elapsedS} s`,
      );
      assert.ok(run.responses > 0, 'answers were counted');
      assert.equal(run.ok, run.responses);
      assert.equal(run.status_codes['200'], run.responses);
      assert.equal(run.samples_ms.length, run.responses);
      assert.ok(run.rps > 0);
      assert.equal(run.non2xx, 0);
      assert.equal(run.errors, 0);
      assert.ok(
        run.latency.p50_ms > 0 && run.latency.p50_ms <= run.latency.p99_ms && run.latency.p99_ms <= run.latency.max_ms,
      );
      assert.ok(run.timeline.length >= 1 && run.timeline.length <= Math.ceil(run.duration_s));
      assert.deepEqual(
        run.timeline.map((s) => s.t),
        run.timeline.map((_, i) => i),
        'one sample per second of the run, from its start',
      );
      assert.ok(run.timeline.reduce((n, s) => n + s.ok, 0) <= run.responses);

      const counted = await runLoad({
        url: server.url,
        path: '/v1/models/flight-delay:predict',
        body: JSON.stringify({ instances: [facts.record] }),
        connections: 1,
        amount: 50,
        deadlineS: 10,
      });
      assert.equal(counted.responses, 50, 'an `amount` run stops at that many answers');

      const doc = composeBenchDocument({
        settings: { connections: 8 },
        machine: { cpus: 1 },
        real: run,
        trivial: run,
        batch100: counted,
        auth: null,
      });
      assert.equal(doc.ratio_real_vs_trivial_rps, 1);
      for (const key of [
        'rps',
        'p50_ms',
        'p90_ms',
        'p99_ms',
        'max_ms',
        'requests',
        'non2xx',
        'errors',
        'timeouts',
        'error_rate',
      ] as const) {
        assert.equal(typeof doc.real[key], 'number', `real.${key}`);
      }
      assert.deepEqual(Object.keys(doc.targets).sort(), [
        'batch100_p50_ms',
        'ratio_real_vs_trivial_p99',
        'ratio_real_vs_trivial_rps',
      ]);
      const json = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(json).sort(), [
        'auth',
        'batch100',
        'benchmark',
        'cpu_us_per_request',
        'machine',
        'pass',
        'ratio_real_vs_trivial_p99',
        'ratio_real_vs_trivial_rps',
        'real',
        'settings',
        'targets',
        'trivial',
        'workers',
      ]);
    });
  },
);

test(
  'a server that dies at start is reported with its output, not awaited until the ready timeout',
  // The ready timeout is far beyond the test's: waiting it out fails the test by its timeout.
  { timeout: 20_000 },
  async () => {
    const broken = fileURLToPath(new URL('./does-not-exist.ts', import.meta.url));
    await assert.rejects(startServer({ name: 'broken', script: broken, readyTimeoutMs: 600_000 }), (err: unknown) => {
      assert.ok(err instanceof ServerNotReadyError);
      assert.match(err.message, /^broken .* exited/);
      assert.match(err.output, /does-not-exist/);
      return true;
    });
  },
);

test('a load of several bodies sends each of them in turn, on every connection', { timeout: 30_000 }, async () => {
  const { createServer } = await import('node:http');
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.set(body, (seen.get(body) ?? 0) + 1);
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    const bodies = ['{"a":1}', '{"a":2}', '{"a":3}'];
    const run = await runLoad({
      url: `http://127.0.0.1:${port}`,
      path: '/predict',
      body: bodies[0],
      bodies,
      connections: 2,
      amount: 60,
      deadlineS: 20,
    });
    assert.equal(run.ok, run.responses);
    assert.deepEqual([...seen.keys()].sort(), bodies);
    for (const b of bodies) assert.ok(seen.get(b)! >= 10, `${b} sent ${seen.get(b)} times of ${run.responses}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
