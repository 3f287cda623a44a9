import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Registry } from 'prom-client';
import { createMetrics } from './prometheus.ts';
import { RECORD, post, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

test(
  'metrics: every promised series is exported and `promtool check metrics` finds nothing',
  { skip: PROMTOOL ? false : 'promtool not installed (.ci/run installs Debian prometheus)' },
  async () => {
    const { url, root } = await registryWithVersions([1]);
    const srv = await startTestServer(url, root);
    try {
      await post(`${srv.url}/predict`, RECORD);
      await post(`${srv.url}/predict`, { ...RECORD, origin: 'QQQ' });
      await post(`${srv.url}/predict`, { ...RECORD, distance: 'x' });
      const text = await (await fetch(`${srv.url}/metrics`)).text();
      for (const name of [
        'http_requests_total',
        'http_request_duration_seconds_bucket',
        'http_requests_in_flight',
        'http_request_size_bytes_bucket',
        'model_predictions_total',
        'model_prediction_value_bucket',
        'model_inference_duration_seconds_bucket',
        'model_batch_size_bucket',
        'model_info',
        'model_age_seconds',
        'model_unknown_category_total',
        'model_rejected_fields_total',
        'process_cpu_seconds_total',
        'nodejs_eventloop_lag_seconds',
      ]) {
        assert.match(text, new RegExp(`^${name}`, 'm'), name);
      }
      const lint = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(lint.status, 0, lint.stdout + lint.stderr);
      assert.equal((lint.stdout + lint.stderr).trim(), '');
    } finally {
      await srv.close();
    }
  },
);

test('scrape-time gauges read the sources handed in at construction (served model, live quality)', async () => {
  let served: { name: string; createdAt: number } | null = null;
  let live: Record<string, number | null> | null = null;
  const metrics = createMetrics({ servedModel: () => served, liveQuality: () => live }, new Registry(), {
    defaultMetrics: false,
  });
  const scrape = async () =>
    (await metrics.registry.getSingleMetricAsString('model_age_seconds')) +
    '\n' +
    (await metrics.registry.getSingleMetricAsString('model_live_quality'));
  assert.doesNotMatch(await scrape(), /model_(age_seconds|live_quality)\{/, 'nothing served, no feedback: no series');
  served = { name: 'flight-delay', createdAt: Date.now() - 3_600_000 };
  live = { accuracy: 0.75, roc_auc: null, samples: 8 };
  const text = await scrape();
  const age = Number(/model_age_seconds\{model="flight-delay"\} ([0-9.]+)/.exec(text)?.[1]);
  assert.ok(age >= 3600 && age < 3700, `age ${age}`);
  assert.match(text, /model_live_quality\{model="flight-delay",metric="accuracy"\} 0\.75/);
  assert.match(text, /model_live_quality\{model="flight-delay",metric="samples"\} 8/);
  assert.doesNotMatch(text, /metric="roc_auc"/, 'an undefined metric is left out');
  live = null;
  assert.doesNotMatch(await scrape(), /model_live_quality\{/, 'live quality is recomputed at each scrape');
});
