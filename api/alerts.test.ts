import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetrainAlerter, webhookFromEnv } from './alerts.ts';
import { memoryLogger } from '../core/platform/log.ts';
import type { DriftState } from './drift-monitor.ts';
import { readBody, serve } from '../harness/testing/lifecycle.ts';

const drifted: DriftState = {
  model_version: 3,
  computed_at: null,
  window: 5000,
  window_size: 5000,
  dataset: { drifted: true, drift_share: 0.75, evaluated: 4, drifted_features: ['distance', 'origin', 'date.month'] },
  features: [],
  history: [],
};
const calm: DriftState = {
  ...drifted,
  dataset: { drifted: false, drift_share: 0, evaluated: 4, drifted_features: [] },
};

test('persistent drift fires one repository_dispatch retrain to the receiver, then rate-limits', async () => {
  const received: { headers: Record<string, unknown>; body: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const receiver = await serve((req, res) => {
    void readBody(req).then((body) => {
      received.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  const url = `${receiver.url}/repos/acme/flights/dispatches`;
  let now = 0;
  const alerter = new RetrainAlerter({
    url,
    token: 'ghs_test',
    persistChecks: 3,
    minIntervalMs: 60_000,
    liveDrop: 0.05,
    liveMinSamples: 100,
    log: memoryLogger(),
    now: () => now,
  });
  const model = { name: 'flight-delay', version: 3, validation: { roc_auc: 0.66 } };
  try {
    assert.equal(await alerter.check(drifted, null, model), 'pending');
    assert.equal(await alerter.check(calm, null, model), 'quiet', 'a calm check resets the streak');
    assert.equal(await alerter.check(drifted, null, model), 'pending');
    assert.equal(await alerter.check(drifted, null, model), 'pending');
    assert.equal(await alerter.check(drifted, null, model), 'fired');
    assert.equal(received.length, 1);
    assert.equal(received[0].body.event_type, 'retrain');
    assert.match(received[0].body.client_payload.reasons[0], /dataset drift: 3 of 4 features drifted/);
    assert.equal(received[0].headers.authorization, 'Bearer ghs_test');
    now = 30_000;
    assert.equal(await alerter.check(drifted, null, model), 'rate_limited');
    now = 61_000;
    assert.equal(await alerter.check(drifted, null, model), 'fired');
    assert.equal(received.length, 2);
  } finally {
    await receiver.close();
  }
});

test('a live quality drop counts; too few outcomes do not; no webhook configured means disabled', async () => {
  const alerter = new RetrainAlerter({
    url: null,
    persistChecks: 1,
    minIntervalMs: 0,
    liveDrop: 0.05,
    liveMinSamples: 100,
    log: memoryLogger(),
  });
  const live = {
    task: 'classification' as const,
    n: 500,
    accuracy: 0.5,
    precision: 0.2,
    recall: 0.5,
    f1: 0.3,
    roc_auc: 0.58,
    positive_rate: 0.2,
  };
  assert.deepEqual(alerter.reasons(calm, live, { roc_auc: 0.66 }), [
    'live roc_auc 0.5800 vs 0.6600 at validation over 500 outcomes',
  ]);
  assert.deepEqual(alerter.reasons(calm, { ...live, n: 50 }, { roc_auc: 0.66 }), []);
  assert.equal(await alerter.check(calm, live, { name: 'm', version: 1, validation: { roc_auc: 0.66 } }), 'disabled');
  assert.deepEqual(webhookFromEnv({ GITHUB_REPOSITORY: 'acme/flights', GITHUB_TOKEN: 't' }), {
    url: 'https://api.github.com/repos/acme/flights/dispatches',
    token: 't',
  });
  assert.deepEqual(webhookFromEnv({}), { url: null });
});
