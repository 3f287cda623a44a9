import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { train, MODEL_DIR, EXPERIMENTS_FILE } from './train.ts';
import { evaluate, EVALUATE_METRICS } from './evaluate.ts';
import { loadBundle, outputsFromModel } from '../../core/bundle.ts';
import { selectBackend } from '../../core/backend.ts';
import { recordsToTable } from '../../core/records.ts';
import { expandCandidates, permutation, seededRandom } from '../fit.ts';
import { quietLog } from '../test-fixtures.ts';
import { trainedRepo } from '../test-pipeline.ts';

test('classification: candidates are logged, the bundle reloads and reproduces its golden outputs exactly', async () => {
  const { repo, summary, params } = await trainedRepo();
  assert.equal(summary.candidates, 2);
  const log = JSON.parse(await readFile(join(repo, EXPERIMENTS_FILE), 'utf8'));
  assert.equal(log.runs.length, 2);
  assert.equal(log.runs.filter((r: { selected: boolean }) => r.selected).length, 1);
  for (const r of log.runs) {
    assert.equal(r.backend, 'wasm');
    assert.ok(r.epochs >= 1 && r.duration_s > 0 && r.rows_per_s > 0);
    assert.ok(typeof r.val.roc_auc === 'number');
  }
  const { tf } = await selectBackend({});
  const bundle = await loadBundle(tf, join(repo, MODEL_DIR));
  try {
    assert.equal(bundle.golden.length, 5);
    const { predictions, errors } = bundle.predictRecords(bundle.golden.map((g) => g.record));
    assert.ok(errors.every((e) => e.length === 0));
    assert.deepEqual(predictions, bundle.golden.map((g) => g.expected), 'bit-identical to what training computed');
    assert.ok(bundle.meta.threshold! > 0 && bundle.meta.threshold! < 1);
    assert.equal(bundle.meta.input_schema.distance.type, 'number');
    // Same records through the training-time path (a table built by the same converter).
    const { table } = recordsToTable(bundle.golden.map((g) => g.record), bundle.meta.input_schema);
    assert.deepEqual(Array.from(outputsFromModel(tf, bundle.model, bundle.meta, bundle.spec, table)), bundle.golden.map((g) => g.expected));
  } finally {
    bundle.dispose();
  }
  // A second training run appends to the experiment log instead of replacing it.
  await train({ repoRoot: repo, params, log: quietLog() });
  assert.equal(JSON.parse(await readFile(join(repo, EXPERIMENTS_FILE), 'utf8')).runs.length, 4);
});

test('regression: the params switch trains delay minutes and evaluates with regression metrics', async () => {
  const { repo, params } = await trainedRepo({ type: 'regression', positive_above: undefined });
  const result = await evaluate({ repoRoot: repo, params, log: quietLog() });
  const saved = JSON.parse(await readFile(join(repo, EVALUATE_METRICS), 'utf8'));
  assert.equal(saved.task, 'regression');
  for (const k of ['mae', 'rmse', 'r2', 'smape']) assert.ok(Number.isFinite(saved.test[k]), k);
  assert.ok(Number.isFinite(saved.baseline.rmse));
  assert.equal(result.edge_cases.failed, 0);
  const { tf } = await selectBackend({});
  const bundle = await loadBundle(tf, join(repo, MODEL_DIR));
  assert.ok(bundle.meta.target_scaler && bundle.meta.threshold === undefined);
  assert.ok(bundle.checkGolden().ok);
  bundle.dispose();
});

test('evaluate: edge cases never fail and wrong types are rejected with the field named', async () => {
  const { repo, params } = await trainedRepo();
  const r = await evaluate({ repoRoot: repo, params, log: quietLog() });
  assert.equal(r.edge_cases.failed, 0, JSON.stringify(r.edge_cases.examples.filter((e) => e.outcome === 'failed')));
  assert.ok(r.edge_cases.predicted >= 4 && r.edge_cases.rejected >= 30);
  const typo = r.edge_cases.examples.find((e) => e.case === 'distance: text "abc"')!;
  assert.equal(typo.outcome, 'rejected');
  assert.match(typo.detail, /distance: must be a finite number/);
  assert.ok(r.latency_ms.p95 > 0);
});

test('grid expansion names every combination and seeded shuffles repeat', () => {
  const c = expandCandidates([{ name: 'mlp', model: 'mlp', grid: { hidden: [[8], [16, 8]], learning_rate: [0.1, 0.01] } }]);
  assert.deepEqual(c.map((x) => x.name), ['mlp[hidden=8,learning_rate=0.1]', 'mlp[hidden=8,learning_rate=0.01]', 'mlp[hidden=16-8,learning_rate=0.1]', 'mlp[hidden=16-8,learning_rate=0.01]']);
  assert.throws(() => expandCandidates([{ name: 'a', model: 'logistic' }, { name: 'a', model: 'mlp' }]), /two candidates are named a/);
  assert.deepEqual(Array.from(permutation(10, seededRandom(1))), Array.from(permutation(10, seededRandom(1))));
  assert.notDeepEqual(Array.from(permutation(10, seededRandom(1))), Array.from(permutation(10, seededRandom(2))));
});
