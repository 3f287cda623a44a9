import { test } from 'node:test';
import assert from 'node:assert/strict';
import { post, registryWithVersions, sampleRecords, startTestServer } from '../harness/testing/api/support.ts';

test('live drift: same-distribution traffic does not drift, shifted distances do; /drift, /monitoring and gauges show it', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root, { DRIFT_WINDOW: '400', DRIFT_INTERVAL_MS: '100000' });
  try {
    const same = sampleRecords(200);
    await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: same });
    await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: same });
    let d = (await (await fetch(`${srv.url}/drift`)).json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const feature = (n: string) => d.features.find((f: { name: string }) => f.name === n);
    assert.equal(d.window, 400);
    assert.equal(feature('distance').drifted, false, JSON.stringify(feature('distance').result));
    assert.equal(feature('origin').drifted, false);
    assert.equal(d.dataset.drifted, false);
    // Replace the window with flights twice as long and all from one airport.
    const shifted = sampleRecords(400).map((r) => ({
      ...r,
      distance: Math.min(6000, r.distance + 1500),
      origin: 'ATL',
    }));
    await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: shifted });
    d = (await (await fetch(`${srv.url}/drift`)).json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(feature('distance').drifted, true);
    assert.equal(feature('distance').result.method, 'ks');
    assert.equal(feature('origin').drifted, true);
    assert.equal(feature('origin').result.method, 'chi2');
    assert.equal(feature('date.hour').drifted, false, 'hours still follow the reference');
    assert.equal(d.dataset.drifted, true);
    assert.ok(feature('distance').out_of_range_total > 0);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, /model_drift_detected\{model="flight-delay",feature="distance"\} 1/);
    assert.match(metrics, /model_drift_score\{model="flight-delay",feature="origin",method="chi2"\} [0-9.e+]+/);
    assert.match(metrics, /model_dataset_drift\{model="flight-delay"\} 1/);
    assert.match(metrics, /model_out_of_range_values_total\{model="flight-delay",feature="distance"\} \d+/);
    const page = await fetch(`${srv.url}/monitoring`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'sha256-/);
    assert.match(await page.text(), /flight-delay monitoring/);
  } finally {
    await srv.close();
  }
});
