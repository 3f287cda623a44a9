import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD, post, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';

const setup = (async () => {
  const reg = await registryWithVersions([1]);
  const srv = await startTestServer(reg.url, reg.root, {
    API_TOKENS: 'predict-token-0123456789',
    ADMIN_TOKEN: 'admin-token-0123456789',
    MAX_INSTANCES: '50',
    BODY_LIMIT_BYTES: '20000',
  });
  return { reg, srv };
})();
after(async () => (await setup).srv.close());
const auth = { authorization: 'Bearer predict-token-0123456789' };

test('predict routes answer with model name, version, prediction id and classification fields', async () => {
  const { srv } = await setup;
  const one = await post(`${srv.url}/predict`, RECORD, auth);
  assert.equal(one.status, 200);
  assert.equal(one.json.model_name, 'flight-delay');
  assert.equal(one.json.model_version, 1);
  assert.match(
    one.json.prediction_id,
    /^r[0-9a-f]{8}\.[A-Za-z0-9_-]{70}$/,
    'signed with the random key of this process',
  );
  const p = one.json.prediction;
  assert.ok(
    p.probability > 0 && p.probability < 1 && p.threshold === 0.5 && p.label === (p.probability >= 0.5 ? 1 : 0),
  );
  const many = await post(
    `${srv.url}/v1/models/flight-delay:predict`,
    { instances: [RECORD, { ...RECORD, origin: 'QQQ' }] },
    auth,
  );
  assert.equal(many.status, 200);
  assert.equal(many.json.predictions.length, 2);
  assert.equal(many.json.prediction_ids.length, 2);
  assert.equal(many.json.predictions[0].probability, p.probability, 'same record, same answer in a batch');
  const metrics = await (await fetch(`${srv.url}/metrics`, { headers: auth })).text();
  assert.match(metrics, /model_unknown_category_total\{model="flight-delay",feature="origin"\} 1/);
  assert.match(metrics, /model_info\{name="flight-delay",version="1",stage="production"/);
});

test('served predictions equal the bundle golden outputs exactly (no skew)', async () => {
  const { srv } = await setup;
  const golden = srv.manager.current!.bundle.golden;
  const res = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: golden.map((g) => g.record) }, auth);
  assert.deepEqual(
    res.json.predictions.map((p: { probability: number }) => p.probability),
    golden.map((g) => g.expected),
  );
});

test('bad input gets 4xx with field-level messages', async () => {
  const { srv } = await setup;
  const cases: [unknown, number, RegExp][] = [
    [{ ...RECORD, distance: 'abc' }, 400, /distance/],
    [{ date: RECORD.date, distance: 5 }, 400, /origin/],
    [{ ...RECORD, extra: 1 }, 400, /extra/],
    [{ ...RECORD, distance: 1e9 }, 400, /out of range/],
    [[RECORD], 400, /one JSON object/],
    ['{"date": ', 400, /not valid JSON/],
    ['', 400, /empty/],
  ];
  for (const [body, status, re] of cases) {
    const r = await post(`${srv.url}/predict`, body, auth);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.match(JSON.stringify(r.json), re);
  }
  const nan = await post(`${srv.url}/predict`, '{"date":"2001-01-09T14:35:00Z","distance":NaN,"origin":"ATL"}', auth);
  assert.equal(nan.status, 400);
  const form = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', ...auth },
    body: 'x',
  });
  assert.equal(form.status, 415);
  const big = await post(`${srv.url}/predict`, { ...RECORD, pad: 'x'.repeat(30000) }, auth);
  assert.equal(big.status, 413);
  const tooMany = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: Array(51).fill(RECORD) }, auth);
  assert.equal(tooMany.status, 413);
  const detail = await post(
    `${srv.url}/v1/models/flight-delay:predict`,
    { instances: [RECORD, { ...RECORD, origin: 7 }] },
    auth,
  );
  assert.equal(detail.status, 400);
  assert.deepEqual(detail.json.error.details, [{ instance: 1, field: 'origin', message: 'must be a string, got 7' }]);
});

test('auth: 401 without a token, 403 with a wrong one, admin routes need the admin token', async () => {
  const { srv } = await setup;
  const anonymous = await post(`${srv.url}/predict`, RECORD);
  assert.equal(anonymous.status, 401);
  assert.equal(
    anonymous.json.error.message,
    'a token is needed for prediction routes: send "Authorization: Bearer <token>"',
  );
  assert.equal(
    (await post(`${srv.url}/predict`, RECORD, { authorization: 'Bearer wrong-token-wrong-token' })).status,
    403,
  );
  assert.match(
    (await post(`${srv.url}/predict`, RECORD, { authorization: 'Basic abc' })).json.error.message,
    /Bearer <token>/,
  );
  assert.equal(
    (await post(`${srv.url}/admin/reload`, {}, auth)).status,
    403,
    'a prediction token is not an admin token',
  );
  const reload = await post(`${srv.url}/admin/reload`, {}, { authorization: 'Bearer admin-token-0123456789' });
  assert.equal(reload.status, 200);
  assert.equal(reload.json.status, 'unchanged');
  assert.equal((await fetch(`${srv.url}/healthz`)).status, 200, 'health needs no token');
});

test('metadata, readiness, OpenAPI from the validation schema, 404/405', async () => {
  const { srv } = await setup;
  const info = (await (await fetch(`${srv.url}/v1/models/flight-delay`)).json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(info.ready, true);
  assert.equal(info.version, 1);
  assert.equal(info.backend, 'wasm');
  assert.deepEqual(
    info.inputs.map((i: { name: string }) => i.name),
    ['date', 'distance', 'origin'],
  );
  assert.ok(info.inputs.every((i: { default: unknown }) => i.default !== null));
  assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);
  const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const rec = doc.components.schemas.Record;
  assert.deepEqual(rec.required, ['date', 'distance', 'origin']);
  assert.equal(rec.properties.distance.maximum, 6000);
  assert.equal(rec.properties.origin.pattern, '^[A-Z0-9]{3}$');
  assert.equal((await fetch(`${srv.url}/nope`)).status, 404);
  assert.equal((await fetch(`${srv.url}/predict`)).status, 405);
  const html = await (await fetch(`${srv.url}/`)).text();
  assert.match(html, /<html|<!doctype/i);
});
