import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '../../core/platform/random.ts';
import { ingest } from '../stages/ingest.ts';
import { validate } from '../stages/validate.ts';
import { prepare } from '../stages/prepare.ts';
import { train } from '../stages/train.ts';
import { batchDrift } from '../drift.ts';
import type { PredictionDrift } from '../drift-predictions.ts';
import { noTrack, quietLog, tempRepo, testParams, writeSource } from '../../harness/testing/training/fixtures.ts';

/**
 * Flights whose delay rises steeply with distance (a sharp boundary, so boosting keeps finding
 * gains and the iteration count matters), plus noise; `seed` draws another sample of the same population.
 */
function flights(rows: number, seed: number): string {
  const r = seededRandom(seed);
  const airports = ['ATL', 'ORD', 'DFW', 'LAX', 'SFO'];
  const lines = Array.from({ length: rows }, (_, i) => {
    const date = new Date(Date.UTC(2001, 0, 1 + Math.floor(i / 24), i % 24, Math.floor(r() * 60)));
    const o = Math.floor(r() * 5);
    const distance = 100 + Math.floor(r() * 2000);
    const noise = (r() + r() + r() - 1.5) * 40;
    const delay = Math.round((o === 1 ? 20 : 0) + (distance - 1000) / 2 + noise);
    const when = date.toISOString().replace('T', ' ').slice(0, 16);
    return `${when},${delay},${distance},${airports[o]},${airports[(o + 2) % 5]}`;
  });
  return ['date,delay,distance,origin,destination', ...lines].join('\n') + '\n';
}

async function trainTrees(task: { type: 'classification' | 'regression'; positive_above?: number }) {
  const repo = await tempRepo();
  const base = await testParams();
  const params = await testParams({
    data: { source: await writeSource(repo, 'src.csv', flights(1000, 1)) },
    ingest: { batch_size: 500, batches_per_run: 0, max_batches: 0 },
    task,
    train: {
      ...base.train!,
      primary_metric: task.type === 'regression' ? 'rmse' : 'log_loss',
      validation_blend: 'off',
      recent_refit: { epochs: 1, learning_rate_factor: 1 },
      golden_examples: 3,
      candidates: [
        { name: 'gbdt', model: 'gbdt', learning_rate: 0.1, max_iter: 500, max_leaf_nodes: 15, min_samples_leaf: 20 },
      ],
    },
    // The fresh sample is a few hundred rows.
    drift: { ...base.drift, min_window: 30 },
  });
  const log = quietLog();
  await ingest({ repoRoot: repo, params, log, track: noTrack });
  await validate({ repoRoot: repo, params, log });
  await prepare({ repoRoot: repo, params, log });
  await train({ repoRoot: repo, params, log });
  const bundle = JSON.parse(await readFile(join(repo, 'artifacts/model/bundle.json'), 'utf8'));
  const drift = await batchDrift({
    reference: join(repo, 'artifacts/model'),
    current: await writeSource(repo, 'fresh.csv', flights(600, 2)),
    out: join(repo, 'drift-fresh'),
    params,
    log: quietLog(),
  });
  return { bundle, predictions: drift.predictions as PredictionDrift };
}

for (const task of [
  { type: 'classification' as const, positive_above: 15 },
  { type: 'regression' as const, positive_above: undefined },
])
  test(`${task.type}: a tree winner refitted on a small table shows no prediction drift on new rows of the population it learned`, async () => {
    const { bundle, predictions } = await trainTrees(task);
    assert.equal(bundle.model_type, 'gbdt');
    // The refit on train + validation, boosted for the cross-validated count.
    assert.equal(bundle.recent_refit.rows, bundle.rows.train + bundle.rows.validation);
    assert.ok(predictions.tracks.prediction, JSON.stringify(predictions));
    assert.equal(predictions.tracks.prediction.status, 'ok');
    assert.deepEqual(predictions.drifted_tracks, [], JSON.stringify(predictions.tracks));
  });
