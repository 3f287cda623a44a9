import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { RECORD, post, registryWithVersions, startTestServer } from './test-support.ts';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

test('metrics: every promised series is exported and `promtool check metrics` finds nothing', { skip: PROMTOOL ? false : 'promtool not installed (.ci/run installs Debian prometheus)' }, async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root);
  try {
    await post(`${srv.url}/predict`, RECORD);
    await post(`${srv.url}/predict`, { ...RECORD, origin: 'QQQ' });
    await post(`${srv.url}/predict`, { ...RECORD, distance: 'x' });
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    for (const name of ['http_requests_total', 'http_request_duration_seconds_bucket', 'http_requests_in_flight', 'http_request_size_bytes_bucket', 'model_predictions_total', 'model_prediction_value_bucket', 'model_inference_duration_seconds_bucket', 'model_batch_size_bucket', 'model_info', 'model_age_seconds', 'model_unknown_category_total', 'model_rejected_fields_total', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
      assert.match(text, new RegExp(`^${name}`, 'm'), name);
    }
    const lint = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    assert.equal((lint.stdout + lint.stderr).trim(), '');
  } finally {
    await srv.close();
  }
});
