import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD, post, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';
import { loadConfig } from './config.ts';
import { accessChecks, authorize, type Access } from './middleware/auth.ts';

const PREDICT = 'predict-token-0123456789';
const ADMIN = 'admin-token-0123456789';
const SCRAPE = ['scrape-token-a-0123456789', 'scrape-token-b-0123456789'];
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const setup = (async () => {
  const reg = await registryWithVersions([1]);
  const srv = await startTestServer(reg.url, reg.root, {
    API_TOKENS: PREDICT,
    ADMIN_TOKEN: ADMIN,
    METRICS_TOKENS: ` ${SCRAPE.join(' , ')} `,
  });
  return { reg, srv };
})();
after(async () => (await setup).srv.close());

test('a METRICS_TOKENS token reads GET /metrics and nothing else', async () => {
  const { srv } = await setup;
  for (const t of SCRAPE) {
    const res = await fetch(`${srv.url}/metrics`, { headers: bearer(t) });
    assert.equal(res.status, 200, `scrape token ${t}`);
    assert.match(await res.text(), /^# HELP /m, 'the Prometheus text');
    assert.equal(
      (await fetch(`${srv.url}/metrics`, { method: 'HEAD', headers: bearer(t) })).status,
      200,
      'HEAD /metrics',
    );
  }
  const [t] = SCRAPE;
  assert.equal((await post(`${srv.url}/predict`, RECORD, bearer(t))).status, 403, 'POST /predict');
  assert.equal(
    (await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: [RECORD] }, bearer(t))).status,
    403,
    'POST :predict',
  );
  assert.equal((await post(`${srv.url}/feedback`, { id: 'x', label: 1 }, bearer(t))).status, 403, 'POST /feedback');
  for (const path of ['/feedback', '/drift'])
    assert.equal((await fetch(srv.url + path, { headers: bearer(t) })).status, 403, `GET ${path}`);
  assert.equal(
    (await fetch(`${srv.url}/admin/reload`, { method: 'POST', headers: bearer(t) })).status,
    403,
    'POST /admin/reload',
  );
});

test('with API_TOKENS set, /metrics without a token is 401 and prediction and admin tokens still read it', async () => {
  const { srv } = await setup;
  const none = await fetch(`${srv.url}/metrics`);
  assert.equal(none.status, 401);
  assert.match(((await none.json()) as { error: { message: string } }).error.message, /GET \/metrics/);
  assert.equal((await fetch(`${srv.url}/metrics`, { headers: bearer('not-a-token-not-a-token') })).status, 403);
  for (const t of [PREDICT, ADMIN])
    for (const path of ['/metrics', '/drift', '/feedback'])
      assert.equal((await fetch(srv.url + path, { headers: bearer(t) })).status, 200, path);
  assert.equal(
    (await post(`${srv.url}/predict`, RECORD, bearer(PREDICT))).status,
    200,
    'the prediction token still predicts',
  );
});

test('METRICS_TOKENS: comma-separated, trimmed, each at least 16 characters', () => {
  assert.deepEqual(loadConfig({ METRICS_TOKENS: ` ${SCRAPE.join(' , ')} ,` }).metricsTokens, SCRAPE);
  assert.deepEqual(loadConfig({}).metricsTokens, []);
  assert.throws(
    () => loadConfig({ METRICS_TOKENS: `${SCRAPE[0]},short` }),
    /every METRICS_TOKENS entry must be at least 16 characters/,
  );
});

test('access matrix: which token opens which kind of route', () => {
  const outcome = (checks: ReturnType<typeof accessChecks>, access: Access, token: string | null) => {
    try {
      authorize(access, token ? bearer(token) : {}, checks);
      return 200;
    } catch (e) {
      return (e as { status: number }).status;
    }
  };
  const base = { apiTokens: [PREDICT], adminToken: ADMIN, metricsTokens: [SCRAPE[0]], publicMonitoring: false };
  const table = (c: typeof base) =>
    Object.fromEntries(
      (['public', 'predict', 'monitoring', 'metrics', 'admin'] as Access[]).map((a) => [
        a,
        [null, PREDICT, ADMIN, SCRAPE[0]].map((t) => outcome(accessChecks(c), a, t)),
      ]),
    );
  //                    no token   predict  admin  scrape
  assert.deepEqual(table(base), {
    public: [200, 200, 200, 200],
    predict: [401, 200, 403, 403],
    monitoring: [401, 200, 200, 403],
    metrics: [401, 200, 200, 200],
    admin: [401, 403, 200, 403],
  });
  // PUBLIC_MONITORING=on opens monitoring reads and /metrics; predictions still need their token.
  const open = table({ ...base, publicMonitoring: true });
  assert.deepEqual(
    [open.monitoring, open.metrics, open.predict],
    [
      [200, 200, 200, 200],
      [200, 200, 200, 200],
      [401, 200, 403, 403],
    ],
  );
  // Without API_TOKENS the API is open as before: a scrape token neither protects nor is needed.
  const noApi = table({ ...base, apiTokens: [] });
  assert.deepEqual(
    [noApi.metrics, noApi.monitoring, noApi.predict],
    [
      [200, 200, 200, 200],
      [200, 200, 200, 200],
      [200, 200, 200, 200],
    ],
  );
});
