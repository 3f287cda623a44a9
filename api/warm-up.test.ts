import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { warmRequests, warmUp } from './warm-up.ts';
import { RECORD, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';

test('warmRequests: each record alone on /predict, as its JSON', () => {
  const records = [RECORD, { ...RECORD, origin: 'ORD' }];
  const mix = warmRequests(records);
  assert.deepEqual(
    mix.map((r) => [r.method, r.path]),
    [
      ['POST', '/predict'],
      ['POST', '/predict'],
    ],
  );
  assert.deepEqual(JSON.parse(mix[1].body!), records[1]);
  assert.deepEqual(warmRequests([]), [], 'no golden records: nothing to send');
});

test('warmUp: sends the requests in turn up to the budget, counts failures, closes its server', async () => {
  const seen: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      res.statusCode = req.url === '/bad' ? 500 : 200;
      res.end(req.url === '/bad' ? 'broken' : '{}');
    });
  };
  const requests = [
    { method: 'POST' as const, path: '/a', body: '{"x":1}' },
    { method: 'GET' as const, path: '/b' },
    { method: 'GET' as const, path: '/bad' },
  ];
  const result = await warmUp(handler, requests, { durationMs: 10_000, maxRequests: 30, concurrency: 4 });
  assert.equal(result.requests, 30);
  assert.equal(seen.length, 30);
  assert.equal(seen.filter((s) => s === 'POST /a {"x":1}').length, 10, 'the body arrives whole');
  assert.equal(result.failed, 10);
  assert.equal(result.firstFailure, 'GET /bad → 500 broken');
  const none = await warmUp(handler, [], { durationMs: 1000, maxRequests: 10, concurrency: 2 });
  assert.equal(none.requests, 0);
});

test('warmUp: the time budget stops it', async () => {
  const handler = (_req: IncomingMessage, res: ServerResponse) => setTimeout(() => res.end('{}'), 20);
  const result = await warmUp(handler, [{ method: 'GET', path: '/' }], {
    durationMs: 200,
    maxRequests: 1_000_000,
    concurrency: 2,
  });
  assert.ok(
    result.requests >= 2 && result.requests < 60,
    `${result.requests} requests in 200 ms at 20 ms each, 2 at a time`,
  );
  assert.equal(result.failed, 0);
});

test('a server warms up before the port opens, and none of it shows in /metrics or /drift', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root, { WARM_UP_MS: '300' });
  try {
    const line = srv.log.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg?.toString().startsWith('warmed up'));
    assert.ok(line, `a warm-up line in ${srv.log.lines.join('\n')}`);
    assert.ok(Number(line.requests) > 0);
    assert.ok(!srv.log.lines.some((l) => l.includes('warm-up requests failed')), 'every warm-up request succeeded');
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /^http_requests_total\{route="\/predict"/m);
    assert.doesNotMatch(metrics, /^model_predictions_total\{/m);
    const driftRows = async () => ((await (await fetch(`${srv.url}/drift`)).json()) as { window: number }).window;
    assert.equal(await driftRows(), 0, 'no warm-up row in the drift window');
    const res = await fetch(`${srv.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(RECORD),
    });
    assert.equal(res.status, 200);
    const after = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(
      after,
      /^http_requests_total\{route="\/predict",method="POST",status="200"\} 1$/m,
      'the one real request counts',
    );
    assert.equal(await driftRows(), 1);
  } finally {
    await srv.close();
  }
});
