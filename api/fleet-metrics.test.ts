import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { FleetDriftSources, FleetQuality, registerFleetMetrics } from './fleet-metrics.ts';
import type { FleetDriftTrack } from '../core/drift/fleet.ts';

const series = (text: string, name: string) =>
  [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))].map((m) => `${m[1]} ${m[2]}`);

test('the exposition: feedback by label × bin with the running sum below, confusion cells, error sums; served bins with reference shares', async () => {
  const registry = new Registry();
  const quality = new FleetQuality();
  const drift = new FleetDriftSources();
  registerFleetMetrics(registry, quality, drift);
  quality.add('m', 2, 'classification', 1, 0.97, 0.5); // bin 19, tp
  quality.add('m', 2, 'classification', 0, 0.12, 0.5); // bin 2, tn
  quality.add('r', 1, 'regression', 10, 13, null); // error 3
  const numeric: FleetDriftTrack = {
    feature: 'distance',
    kind: 'numeric',
    reference: [1, 3],
    served: Float64Array.from([5, 0]),
    edges: [0, 2, 6],
    std: 2,
  };
  drift.register('m', 2, () => [
    numeric,
    { feature: 'origin', kind: 'categorical', reference: [2, 2], served: [1, 1] },
  ]);
  const text = await registry.metrics();
  assert.deepEqual(series(text, 'model_feedback_pairs_total'), ['model="m",version="2" 2', 'model="r",version="1" 1']);
  const bins = series(text, 'model_feedback_score_bin_total');
  assert.equal(bins.length, 40, '20 bins × 2 labels, zeros included (so increase() sees every series from 0)');
  assert.ok(
    bins.includes('model="m",version="2",label="1",bin="19" 1') &&
      bins.includes('model="m",version="2",label="0",bin="2" 1'),
  );
  assert.ok(series(text, 'model_feedback_score_below_total').includes('model="m",version="2",label="0",bin="3" 1'));
  assert.deepEqual(
    series(text, 'model_feedback_confusion_total').filter((s) => !s.endsWith(' 0')),
    ['model="m",version="2",cell="tp" 1', 'model="m",version="2",cell="tn" 1'],
  );
  assert.deepEqual(series(text, 'model_feedback_squared_error_total'), ['model="r",version="1" 9']);
  assert.deepEqual(series(text, 'model_drift_served_below_total'), [
    'model="m",version="2",feature="distance",kind="numeric",bin="0" 0',
    'model="m",version="2",feature="distance",kind="numeric",bin="1" 5',
  ]);
  assert.ok(
    series(text, 'model_drift_reference_share').includes(
      'model="m",version="2",feature="distance",kind="numeric",bin="1" 0.75',
    ),
  );
  assert.deepEqual(
    series(text, 'model_drift_bin_width_std').map((s) => s.split(' ')[1]),
    ['1', '2'],
    'bin widths 2 and 4 over std 2',
  );
});

test('serving a version again (rollback and forth) keeps its served counters monotonic', async () => {
  const registry = new Registry();
  const drift = new FleetDriftSources();
  registerFleetMetrics(registry, new FleetQuality(), drift);
  const track = (served: number[]): FleetDriftTrack => ({
    feature: 'c',
    kind: 'categorical',
    reference: [1, 1],
    served: Float64Array.from(served),
  });
  const first = track([4, 1]);
  drift.register('m', 1, () => [first]);
  drift.register('m', 2, () => [track([7, 7])]);
  const again = track([0, 0]);
  drift.register('m', 1, () => [again]); // new windows for v1 start from the counts v1 had
  const text = await registry.metrics();
  assert.deepEqual(
    series(text, 'model_drift_served_total').filter((s) => s.includes('version="1"')),
    [
      'model="m",version="1",feature="c",kind="categorical",bin="0" 4',
      'model="m",version="1",feature="c",kind="categorical",bin="1" 1',
    ],
  );
});

test('multi-class feedback: per class, how often it was true, predicted and both, zeros included; pairs counted', async () => {
  const registry = new Registry();
  const quality = new FleetQuality();
  registerFleetMetrics(registry, quality, new FleetDriftSources());
  const classes = ['sun', 'rain', 'fog'];
  quality.addClass('w', 1, classes, 0, 0); // sun, right
  quality.addClass('w', 1, classes, 1, 0); // rain taken for sun
  quality.addClass('w', 1, classes, 7, 0); // no such class: ignored, not counted
  const text = await registry.metrics();
  assert.deepEqual(series(text, 'model_feedback_pairs_total'), ['model="w",version="1" 2']);
  assert.deepEqual(series(text, 'model_feedback_class_total'), [
    'model="w",version="1",class="sun",role="actual" 1',
    'model="w",version="1",class="sun",role="predicted" 2',
    'model="w",version="1",class="sun",role="hit" 1',
    'model="w",version="1",class="rain",role="actual" 1',
    'model="w",version="1",class="rain",role="predicted" 0',
    'model="w",version="1",class="rain",role="hit" 0',
    'model="w",version="1",class="fog",role="actual" 0',
    'model="w",version="1",class="fog",role="predicted" 0',
    'model="w",version="1",class="fog",role="hit" 0',
  ]);
});
