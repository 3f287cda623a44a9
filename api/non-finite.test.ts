import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RECORD,
  post,
  registerNanBundle,
  registryWithVersions,
  startTestServer,
} from '../harness/testing/api/support.ts';
import { nonFiniteRows } from './model-manager.ts';
import type { LoadedBundle } from '../core/model/bundle.ts';

test('nonFiniteRows: rows without errors whose output is NaN, ±Infinity or null', () => {
  const errors = [[], [{ field: 'x', message: 'bad' }], [], [], []];
  assert.deepEqual(nonFiniteRows({ predictions: [0.5, null, NaN, Infinity, null], errors }), [2, 3, 4]);
  assert.deepEqual(nonFiniteRows({ predictions: [0, -1e300], errors: [[], []] }), []);
});

test('a bundle with NaN weights is refused at warm-up; the current version keeps serving and stays ready', async () => {
  const { url, root, registry } = await registryWithVersions([1]);
  await registerNanBundle(registry, root);
  const srv = await startTestServer(url, root);
  try {
    await registry.setStage('flight-delay', 'production', 2, { source: 'test', reason: 'NaN weights' });
    const r = await srv.manager.refresh();
    assert.equal(r.status, 'refused');
    assert.match(r.detail!, /non-finite/);
    assert.equal(srv.manager.current!.version, 1);
    assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);
    assert.equal((await post(`${srv.url}/predict`, RECORD)).json.model_version, 1);
    assert.match(
      await (await fetch(`${srv.url}/metrics`)).text(),
      /model_load_failures_total\{model="flight-delay",reason="non_finite_output"\} 1/,
    );
  } finally {
    await srv.close();
  }
});

/** Make the served bundle give NaN for records matching `when` (a fault injected into the live model). */
function injectNaN(bundle: LoadedBundle, when: (rec: Record<string, unknown>) => boolean): void {
  const original = bundle.predictRecords.bind(bundle);
  bundle.predictRecords = (records) => {
    const out = original(records);
    return {
      ...out,
      predictions: out.predictions.map((v, i) => (v !== null && when(records[i] as Record<string, unknown>) ? NaN : v)),
    };
  };
}

test('a served model that starts producing NaN: predictions answer 503 (not 500), /readyz turns 503, a reload heals it', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root);
  try {
    injectNaN(srv.manager.current!.bundle, () => true);
    const one = await post(`${srv.url}/predict`, RECORD);
    assert.equal(one.status, 503);
    assert.equal(one.json.error.code, 'model_unhealthy');
    const many = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: [RECORD, RECORD] });
    assert.equal(many.status, 503);
    const ready = await fetch(`${srv.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(((await ready.json()) as { reason: string }).reason, /non-finite outputs on 4 of 4 golden examples/);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /status="500"/);
    assert.match(metrics, /model_non_finite_outputs_total\{model="flight-delay"\} 3/);
    assert.equal((await srv.manager.refresh()).status, 'swapped', 'the same version is loaded again from the registry');
    assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);
    assert.equal((await post(`${srv.url}/predict`, RECORD)).status, 200);
  } finally {
    await srv.close();
  }
});

test('one input that alone gives NaN is a 503 for that request but leaves the model ready', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root);
  try {
    injectNaN(srv.manager.current!.bundle, (r) => r.distance === 4321);
    const [odd, fine] = await Promise.all([
      post(`${srv.url}/predict`, { ...RECORD, distance: 4321 }),
      post(`${srv.url}/predict`, RECORD),
    ]);
    assert.equal(odd.status, 503);
    assert.equal(fine.status, 200, 'a request coalesced into the same batch is unaffected');
    assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);
  } finally {
    await srv.close();
  }
});
