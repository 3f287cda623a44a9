import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { RECORD, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';
import { serve } from '../harness/testing/lifecycle.ts';

const TOKEN = 'predict-token-0123456789';
const setup = (async () => {
  const reg = await registryWithVersions([1]);
  const srv = await startTestServer(reg.url, reg.root, {
    API_TOKENS: TOKEN,
    MAX_INSTANCES: '5',
    BODY_LIMIT_BYTES: '4000',
  });
  // The same app (same model, batcher, metrics) answered by Koa alone: the reference for the lane.
  const handle = srv.app.callback();
  const koaOnly = await serve((req, res) => void handle(req, res));
  return { srv, koaOnly, koaUrl: koaOnly.url };
})();
after(async () => {
  const { srv, koaOnly } = await setup;
  await koaOnly.close();
  await srv.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function send(base: string, path: string, headers: Record<string, string>, body: Buffer | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Ids differ per answer (a counter and the time are signed in); everything else must not. */
const withoutIds = (text: string) => text.replace(/"r[0-9a-f]{8}\.[A-Za-z0-9_-]{70}"/g, '"<id>"');

/** http_requests_total and http_request_size_bytes_count series as a map of their values. */
async function requestSeries(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n'))
    if (/^http_requests_total\{|^http_request_size_bytes_count\{/.test(line) && !line.includes('route="/metrics"')) {
      const at = line.lastIndexOf(' ');
      out.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  return out;
}

function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) d[k] = v - (before.get(k) ?? 0);
  return d;
}

const json = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
const v1 = '/v1/models/flight-delay:predict';
const CASES: [string, string, Record<string, string>, Buffer | string][] = [
  ['one record', '/predict', json, JSON.stringify(RECORD)],
  ['a query string', '/predict?debug=1', json, JSON.stringify(RECORD)],
  ['the client request id', '/predict', { ...json, 'x-request-id': 'trace-42' }, JSON.stringify(RECORD)],
  ['a batch', v1, json, JSON.stringify({ instances: [RECORD, { ...RECORD, origin: 'QQQ' }] })],
  ['an invalid field', '/predict', json, JSON.stringify({ ...RECORD, distance: 'far' })],
  ['unknown fields', '/predict', json, JSON.stringify({ ...RECORD, colour: 'red' })],
  ['an array to /predict', '/predict', json, JSON.stringify([RECORD])],
  ['an invalid instance in a batch', v1, json, JSON.stringify({ instances: [RECORD, 7] })],
  ['too many instances', v1, json, JSON.stringify({ instances: Array(6).fill(RECORD) })],
  ['malformed JSON', '/predict', json, '{"date": '],
  ['an empty body', '/predict', json, ''],
  ['not JSON', '/predict', { ...json, 'content-type': 'text/plain' }, 'hello'],
  ['a gzip body', '/predict', { ...json, 'content-encoding': 'gzip' }, gzipSync(JSON.stringify(RECORD))],
  ['a broken gzip body', '/predict', { ...json, 'content-encoding': 'gzip' }, 'not gzip at all'],
  ['an unknown encoding', '/predict', { ...json, 'content-encoding': 'zstd' }, 'x'],
  ['a body over the limit', v1, json, JSON.stringify({ instances: [RECORD], pad: 'x'.repeat(5000) })],
  ['no token', '/predict', { 'content-type': 'application/json' }, JSON.stringify(RECORD)],
  ['not a bearer token', '/predict', { ...json, authorization: 'Basic abc' }, JSON.stringify(RECORD)],
  ['a wrong token', '/predict', { ...json, authorization: 'Bearer wrong-token-0123456789' }, JSON.stringify(RECORD)],
];

test('the predict lane answers every case as Koa does: status, headers, body and the metrics it counts', async () => {
  const { srv, koaUrl } = await setup;
  for (const [what, path, headers, body] of CASES) {
    const before = await requestSeries(srv.url);
    const lane = await send(srv.url, path, headers, body);
    const middle = await requestSeries(srv.url);
    const koa = await send(koaUrl, path, headers, body);
    const afterKoa = await requestSeries(srv.url);
    assert.equal(lane.status, koa.status, `${what}: status`);
    assert.equal(withoutIds(lane.text), withoutIds(koa.text), `${what}: body`);
    for (const h of ['content-type', 'content-length', 'x-content-type-options', 'connection'])
      assert.equal(lane.headers[h], koa.headers[h], `${what}: ${h}`);
    assert.match(String(lane.headers['x-request-id']), headers['x-request-id'] ? /^trace-42$/ : /^[0-9a-f-]{36}$/);
    assert.deepEqual(delta(before, middle), delta(middle, afterKoa), `${what}: the series it counts`);
    assert.ok(Object.keys(delta(before, middle)).length > 0, `${what}: counted`);
  }
});

test('the lane leaves other methods and paths to Koa (405 with Allow, 404, OPTIONS)', async () => {
  const { srv } = await setup;
  const get = await fetch(`${srv.url}/predict`);
  assert.equal(get.status, 405);
  assert.match(get.headers.get('allow') ?? '', /POST/);
  const options = await fetch(`${srv.url}/predict`, { method: 'OPTIONS' });
  assert.equal(options.status, 204);
  const other = await send(srv.url, '/predicts', json, JSON.stringify(RECORD));
  assert.equal(other.status, 404);
  assert.match(other.text, /no route POST \/predicts/);
});
