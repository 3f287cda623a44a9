import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  RECORD,
  post,
  registerTamperedBundle,
  registryWithVersions,
  startTestServer,
} from '../harness/testing/api/support.ts';
import { MAX_ERROR_BODY_BYTES } from './errors.ts';

const PREDICT = 'predict-token-0123456789';
const ADMIN = 'admin-token-0123456789';
const setup = (async () => {
  const reg = await registryWithVersions([1]);
  const srv = await startTestServer(reg.url, reg.root, { API_TOKENS: PREDICT, ADMIN_TOKEN: ADMIN });
  return { reg, srv };
})();
after(async () => (await setup).srv.close());
const auth = { authorization: `Bearer ${PREDICT}` };

test('monitoring reads need a token when API_TOKENS is set (prediction or admin token), unless PUBLIC_MONITORING=on', async () => {
  const { srv, reg } = await setup;
  for (const path of ['/metrics', '/drift', '/feedback']) {
    assert.equal((await fetch(srv.url + path)).status, 401, path);
    assert.equal(
      (await fetch(srv.url + path, { headers: { authorization: 'Bearer not-a-token-not-a-token' } })).status,
      403,
      path,
    );
    assert.equal((await fetch(srv.url + path, { headers: auth })).status, 200, path);
    assert.equal((await fetch(srv.url + path, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 200, path);
  }
  for (const path of ['/healthz', '/readyz', '/v1/models/flight-delay', '/monitoring'])
    assert.equal((await fetch(srv.url + path)).status, 200, path);
  const open = await startTestServer(reg.url, reg.root, { API_TOKENS: PREDICT, PUBLIC_MONITORING: 'on' });
  try {
    for (const path of ['/metrics', '/drift', '/feedback'])
      assert.equal((await fetch(open.url + path)).status, 200, path);
    assert.equal((await post(`${open.url}/predict`, RECORD)).status, 401, 'predictions still need a token');
  } finally {
    await open.close();
  }
});

test('error bodies stay under 16 KB: long names are cut, details beyond the budget are counted', async () => {
  const { srv } = await setup;
  // ~1 MiB of long unknown field names in one record.
  const names = Array.from({ length: 1800 }, (_, i) => `${i}_${'n'.repeat(500)}`);
  const wide = `{"date":"${RECORD.date}","distance":733,"origin":"ATL",${names.map((n) => `"${n}":1`).join(',')}}`;
  const res = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: wide,
  });
  const text = await res.text();
  assert.equal(res.status, 400);
  assert.ok(text.length <= MAX_ERROR_BODY_BYTES, `${text.length} bytes`);
  const fields = (JSON.parse(text) as { error: { details: { field: string }[] } }).error.details.map((d) => d.field);
  assert.ok(
    fields.every((f) => f.length <= 64),
    'names cut to 64 characters',
  );
  assert.ok(fields.includes('(more unknown fields)'));
  // Many instances with several bad fields each.
  const bad = { date: 'x'.repeat(30), distance: 'far', origin: 7, extra: 1 };
  const many = await fetch(`${srv.url}/v1/models/flight-delay:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ instances: Array(1000).fill(bad) }),
  });
  const manyText = await many.text();
  assert.equal(many.status, 400);
  assert.ok(manyText.length <= MAX_ERROR_BODY_BYTES, `${manyText.length} bytes`);
  assert.ok((JSON.parse(manyText) as { error: { details_omitted: number } }).error.details_omitted > 3000);
});

test('inherited names (constructor, __proto__, toString, hasOwnProperty) are unknown fields like foo', async () => {
  const { srv } = await setup;
  for (const key of ['foo', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    // Written as JSON text: JSON.parse makes "__proto__" an own key, as a client would send it.
    const body = `{"date":"${RECORD.date}","distance":733,"origin":"ATL","${key}":{}}`;
    const r = await post(`${srv.url}/predict`, body, auth);
    assert.equal(r.status, 400, key);
    assert.deepEqual(
      r.json.error.details.map((d: { field: string }) => d.field),
      [key],
    );
  }
});

test('a 400,000-deep label in /feedback gets a plain 400, not a stack overflow message', async () => {
  const { srv } = await setup;
  const body = `{"prediction_id":"abc","label":${'['.repeat(400_000)}${']'.repeat(400_000)}}`;
  const r = await post(`${srv.url}/feedback`, body, auth);
  assert.equal(r.status, 400);
  assert.doesNotMatch(JSON.stringify(r.json), /call stack/i);
  assert.match(r.json.error.message, /"label" must be 0, 1, true or false/);
});

test('time-zone offsets beyond ±14:00 are refused', async () => {
  const { srv } = await setup;
  assert.equal((await post(`${srv.url}/predict`, { ...RECORD, date: '2001-01-09T14:35:00+99:99' }, auth)).status, 400);
  assert.equal((await post(`${srv.url}/predict`, { ...RECORD, date: '2001-01-09T14:35:00+14:00' }, auth)).status, 200);
});

test('nosniff on every answer; HEAD on GET routes; OPTIONS and 405 name the allowed methods', async () => {
  const { srv } = await setup;
  const answers = [
    await fetch(`${srv.url}/healthz`),
    await fetch(`${srv.url}/nope`),
    await fetch(`${srv.url}/predict`),
    await fetch(`${srv.url}/metrics`),
    await fetch(`${srv.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: '{',
    }),
    await fetch(`${srv.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify(RECORD),
    }),
  ];
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 404, 405, 401, 400, 200],
  );
  for (const a of answers) assert.equal(a.headers.get('x-content-type-options'), 'nosniff', `${a.status} ${a.url}`);
  assert.equal(answers[2].headers.get('allow'), 'POST, OPTIONS');
  for (const path of ['/healthz', '/readyz', '/', '/v1/models/flight-delay']) {
    const head = await fetch(srv.url + path, { method: 'HEAD' });
    assert.equal(head.status, 200, path);
    assert.equal(await head.text(), '', 'no body');
  }
  assert.equal((await fetch(`${srv.url}/metrics`, { method: 'HEAD', headers: auth })).status, 200);
  const options = await fetch(`${srv.url}/feedback`, { method: 'OPTIONS' });
  assert.equal(options.status, 204);
  assert.equal(options.headers.get('allow'), 'POST, GET, HEAD, OPTIONS');
});

test('POST /admin/reload answers 409 when it refused the version, 200 when unchanged', async () => {
  const { srv, reg } = await setup;
  const admin = { authorization: `Bearer ${ADMIN}` };
  assert.equal((await post(`${srv.url}/admin/reload`, {}, admin)).status, 200);
  await registerTamperedBundle(reg.registry, reg.root);
  await reg.registry.setStage('flight-delay', 'production', 2, { source: 'test', reason: 'tampered' });
  try {
    const r = await post(`${srv.url}/admin/reload`, {}, admin);
    assert.equal(r.status, 409);
    assert.equal(r.json.status, 'refused');
    assert.match(r.json.detail, /golden/);
  } finally {
    await reg.registry.setStage('flight-delay', 'production', 1, { source: 'test', reason: 'back' });
  }
});
