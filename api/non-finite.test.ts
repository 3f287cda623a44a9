import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RECORD,
  post,
  registerNanBundle,
  registryWithVersions,
  startTestServer,
} from '../harness/testing/api/support.ts';
import { join } from 'node:path';
import { ModelManager, nonFiniteRows } from './model-manager.ts';
import { MAX_FAILED_SHARE, MIN_FAILED, OutputHealth, WINDOW_ROWS } from './output-health.ts';
import { createMetrics } from './prometheus.ts';
import { loadBundle, type LoadedBundle } from '../core/model/bundle.ts';
import { selectBackend } from '../core/model/tfjs-backend.ts';
import { memoryLogger } from '../core/platform/log.ts';

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

test('a KServe batch with one row the model fails on: that row holds an error, the others are predicted (200)', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root);
  try {
    injectNaN(srv.manager.current!.bundle, (r) => r.distance === 4321);
    const r = await post(`${srv.url}/v1/models/flight-delay:predict`, {
      instances: [RECORD, { ...RECORD, distance: 4321 }, { ...RECORD, distance: 1200 }],
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.predictions[1].error.code, 'model_unhealthy');
    assert.equal(r.json.prediction_ids[1], null, 'no id: there is no prediction to give feedback on');
    for (const i of [0, 2]) {
      assert.equal(typeof r.json.predictions[i].probability, 'number');
      assert.equal(typeof r.json.prediction_ids[i], 'string');
    }
    // The clean rows of the combined call feed the drift windows; the failed one does not.
    assert.equal(((await (await fetch(`${srv.url}/drift`)).json()) as { window: number }).window, 2);
    assert.equal((await fetch(`${srv.url}/readyz`)).status, 200, 'one odd row leaves the pod in service');
  } finally {
    await srv.close();
  }
});

test(`failures past the bound (${MIN_FAILED} rows and ${MAX_FAILED_SHARE * 100} % of the last ${WINDOW_ROWS}) turn /readyz 503; a reload that answers them heals`, async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root);
  try {
    injectNaN(srv.manager.current!.bundle, (r) => r.origin === 'ZZZ');
    const odd = { ...RECORD, origin: 'ZZZ' };
    const good = Array.from({ length: 60 }, () => RECORD);
    for (let i = 0; i < MIN_FAILED; i++) {
      assert.equal((await fetch(`${srv.url}/readyz`)).status, 200, `still ready after ${i} failed rows`);
      const r = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: [...good, odd] });
      assert.equal(r.status, 200);
    }
    const ready = await fetch(`${srv.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(
      ((await ready.json()) as { reason: string }).reason,
      /5 of the last 305 served rows had no finite output/,
    );
    assert.equal((await srv.manager.refresh()).status, 'swapped', 'a fresh copy from the registry answers them');
    assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);
  } finally {
    await srv.close();
  }
});

test('a reload that still fails on the inputs that failed in serving is refused: no flapping back to ready', async () => {
  const { registry, root } = await registryWithVersions([1]);
  const { tf } = await selectBackend({});
  const odd = (r: unknown) => (r as Record<string, unknown>).origin === 'ZZZ';
  const manager = new ModelManager({
    registry,
    tf,
    backend: 'test',
    name: 'flight-delay',
    stage: 'production',
    cacheDir: join(root, 'cache'),
    metrics: createMetrics({ servedModel: () => null, liveQuality: () => null }, undefined, { defaultMetrics: false }),
    log: memoryLogger(),
    goldenTolerance: 0,
    // Every copy of this version fails on the odd input, as a deterministic fault in the weights would.
    load: async (t, dir) => {
      const b = await loadBundle(t, dir);
      injectNaN(b, odd);
      return b;
    },
  });
  try {
    assert.equal((await manager.refresh()).status, 'swapped');
    const m = manager.current!;
    manager.reportOutputs(
      m,
      100,
      Array.from({ length: MIN_FAILED }, () => ({ ...RECORD, origin: 'ZZZ' })),
    );
    assert.match(m.unhealthy ?? '', /no finite output/);
    const r = await manager.refresh();
    assert.equal(r.status, 'refused');
    assert.match(r.detail!, /still gives no finite output for 5 of the 5 served inputs it failed on/);
    assert.equal(
      manager.current,
      m,
      'the unhealthy copy stays (readiness stays 503) until another version is promoted',
    );
    assert.equal((await manager.refresh()).status, 'refused', 'and the next poll does not retry it');
  } finally {
    await manager.stop();
  }
});

test('OutputHealth: the bound needs both the count and the share, over the last rows only', () => {
  const h = new OutputHealth();
  h.record(10, [1, 2, 3, 4]);
  assert.equal(h.verdict(), null, `${MIN_FAILED - 1} failures are below the count`);
  h.record(1, [5]);
  assert.match(h.verdict()!, /^5 of the last 11 served rows/);
  h.record(WINDOW_ROWS, []);
  assert.equal(h.failed, 0, 'old failures leave the window');
  assert.deepEqual(h.failures, [1, 2, 3, 4, 5], 'the failing inputs are kept for the reload check');
  const full = new OutputHealth();
  const below = Math.ceil(MAX_FAILED_SHARE * WINDOW_ROWS) - 1;
  full.record(
    WINDOW_ROWS - 1,
    Array.from({ length: below }, (_, i) => i),
  );
  assert.equal(full.verdict(), null, `${below} of ${WINDOW_ROWS - 1} is below ${MAX_FAILED_SHARE * 100} %`);
  full.record(1, [0]);
  assert.match(full.verdict() ?? '', new RegExp(`^${below + 1} of the last ${WINDOW_ROWS}`));
});
