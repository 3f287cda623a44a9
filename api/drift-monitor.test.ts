import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { DriftMonitor, DEFAULT_DRIFT } from './drift-monitor.ts';
import { referenceStds } from './drift-window.ts';
import { createMetrics } from './prometheus.ts';
import type { ServedModel } from './model-manager.ts';
import { loadBundle } from '../core/model/bundle.ts';
import { selectBackend } from '../core/model/tfjs-backend.ts';
import { recordsToTable } from '../core/data/records.ts';
import { makeBundle, sampleRecords, SCHEMA, WEATHER } from '../harness/testing/api/support.ts';
import { tempDir } from '../harness/testing/lifecycle.ts';

test('live drift of a multi-class model: drifting class probabilities are judged, but are not drifting inputs', async () => {
  const dir = join(await tempDir('drift-monitor-'), 'bundle');
  await makeBundle(dir, 5, { multiclass: true });
  const { tf } = await selectBackend({});
  const bundle = await loadBundle(tf, dir);
  try {
    const metrics = createMetrics({ servedModel: () => null, liveQuality: () => null }, new Registry(), {
      defaultMetrics: false,
    });
    const monitor = new DriftMonitor(metrics, { windowSize: 200, params: DEFAULT_DRIFT });
    const model = { bundle, name: 'weather', version: 1 } as ServedModel;
    // The training inputs themselves, each answered "fog" for certain: the outputs move, the inputs do not.
    const { table } = recordsToTable(sampleRecords(200), SCHEMA);
    const certain = Array.from({ length: table.length }, () => [1, 0, 0]);
    monitor.observe(
      model,
      table,
      certain.map(() => 0),
      certain,
    );
    const state = monitor.compute();
    const byName = Object.fromEntries(state.features.map((f) => [f.name, f]));
    for (const w of WEATHER) assert.ok(byName[`prediction.${w}`]?.result, `prediction.${w} is judged`);
    assert.ok(
      WEATHER.some((w) => byName[`prediction.${w}`].drifted),
      'certain answers drift from the training probabilities',
    );
    assert.deepEqual(state.dataset.drifted_features, [], 'no input drifted');
    assert.equal(state.dataset.evaluated, Object.keys(bundle.profile.features).length, 'inputs only');
    assert.equal(state.dataset.drift_share, 0);
    // Each counter once, in the snake_case of the rest of /drift.
    for (const f of state.features) {
      assert.deepEqual(
        Object.keys(f)
          .filter((k) => /total/i.test(k))
          .sort(),
        ['out_of_range_total', 'unseen_total'],
      );
    }
    assert.equal(state.dataset.drifted, false);
    // The fleet's widths are divided by the same stds (api/fleet-metrics.ts): one per class too.
    for (const w of WEATHER)
      assert.equal(referenceStds(bundle.profile).get(`prediction.${w}`), bundle.profile.prediction_classes![w].std);
  } finally {
    bundle.dispose();
  }
});

test('a periodic check that throws is reported and the next one runs: the timer never ends the process', async () => {
  const metrics = createMetrics({ servedModel: () => null, liveQuality: () => null }, new Registry(), {
    defaultMetrics: false,
  });
  const monitor = new DriftMonitor(metrics, { windowSize: 10, params: DEFAULT_DRIFT });
  const errors: string[] = [];
  let ticks = 0;
  monitor.start(
    5,
    () => {
      ticks++;
      throw new Error(`check ${ticks} failed`);
    },
    (err) => errors.push(err.message),
  );
  try {
    const until = Date.now() + 5_000;
    while (ticks < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  } finally {
    monitor.stop();
  }
  assert.ok(ticks >= 3, `the timer kept running after a failure (${ticks} ticks)`);
  assert.deepEqual(errors.slice(0, 3), ['check 1 failed', 'check 2 failed', 'check 3 failed']);
});
