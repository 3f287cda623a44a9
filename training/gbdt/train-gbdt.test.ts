import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trainedRepo } from '../../harness/testing/training/pipeline.ts';
import { quietLog } from '../../harness/testing/training/fixtures.ts';
import { MODEL_DIR } from '../stages/train.ts';
import { evaluate } from '../stages/evaluate.ts';
import { loadBundle, NonFiniteBundleError } from '../../core/model/bundle.ts';
import { isTreeModel, TREES_FILE } from '../../core/model/trees.ts';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import { checkParams } from '../../core/schemas/params.ts';
import { effectiveMinSamplesLeaf } from './fit-gbdt.ts';

const gbdt = { name: 'gbdt', model: 'gbdt' as const, learning_rate: 0.3, max_iter: 30, max_leaf_nodes: 8, patience: 5 };

for (const task of [{ type: 'classification' as const }, { type: 'regression' as const, positive_above: undefined }]) {
  test(`gbdt ${task.type}: trained, selected (calibrated when a classifier), saved as trees.json; evaluate and the golden examples reproduce it`, async () => {
    const { repo, summary } = await trainedRepo(task, { candidates: [gbdt] });
    assert.equal(summary.selected, 'gbdt');
    const files = await readFile(join(repo, MODEL_DIR, TREES_FILE), 'utf8');
    // The experiment log shows the settings the fit used: the leaf minimum as capped by the rows,
    // no batch size for trees, class weights only for a classifier.
    const logged = Object.values(
      JSON.parse(await readFile(join(repo, 'metrics', 'experiments.json'), 'utf8')).runs as Record<
        string,
        { params: Record<string, unknown>; rows_train: number }
      >,
    ).at(-1)!;
    assert.equal(logged.params.min_samples_leaf, effectiveMinSamplesLeaf(100, logged.rows_train));
    assert.ok(!('batch_size' in logged.params));
    assert.equal('class_weight' in logged.params, task.type === 'classification');
    assert.ok(JSON.parse(files).trees.length >= 1);
    const { tf } = await selectBackend({});
    const bundle = await loadBundle(tf, join(repo, MODEL_DIR));
    try {
      assert.ok(isTreeModel(bundle.model));
      assert.equal(bundle.meta.model_type, 'gbdt');
      if (task.type === 'classification') assert.ok(bundle.meta.calibration, 'calibrated on validation');
      // train.recent_refit: the served trees were boosted again on train + validation, classifiers
      // too (their validation calibration carries over), with an iteration count chosen by
      // cross-validation on a table this small.
      assert.equal(bundle.meta.recent_refit?.rows, bundle.meta.rows.train + bundle.meta.rows.validation);
      const iterations = bundle.meta.recent_refit?.iterations ?? 0;
      assert.ok(Number.isInteger(iterations) && iterations >= 1 && iterations <= gbdt.max_iter, `${iterations}`);
      assert.equal(JSON.parse(files).trees.length, iterations);
      assert.deepEqual(bundle.checkGolden(), { ok: true, mismatches: [] });
      // A record with a missing optional value still gets a finite prediction.
      const { predictions } = bundle.predictRecords([{ ...bundle.golden[0].record }]);
      assert.ok(Number.isFinite(predictions[0]));
    } finally {
      bundle.dispose();
    }
    await evaluate({ repoRoot: repo, log: quietLog() });
  });
}

test('a tree bundle with a non-finite leaf is refused at load, naming the file and the value', async () => {
  const { repo } = await trainedRepo({}, { candidates: [gbdt] });
  const path = join(repo, MODEL_DIR, TREES_FILE);
  const json = JSON.parse(await readFile(path, 'utf8'));
  json.trees[0].value[json.trees[0].value.length - 1] = null;
  await writeFile(path, JSON.stringify(json));
  const { tf } = await selectBackend({});
  await assert.rejects(
    loadBundle(tf, join(repo, MODEL_DIR)),
    (e: Error) => e instanceof NonFiniteBundleError && /trees\.json tree 0 value\[\d+\] is not finite/.test(e.message),
  );
  // A number too large for a double reads back as Infinity.
  json.trees[0].value[json.trees[0].value.length - 1] = 12345.678;
  await writeFile(path, JSON.stringify(json).replace('12345.678', '1e400'));
  await assert.rejects(loadBundle(tf, join(repo, MODEL_DIR)), NonFiniteBundleError);
});

test('params: gbdt keys are checked, and a network key on a gbdt candidate (or the reverse) is refused naming it', () => {
  const problems = (candidate: Record<string, unknown>) =>
    checkParams({ train: { candidates: [candidate] } }).problems.filter((p) => p.key.startsWith('train.candidates'));
  assert.deepEqual(problems({ name: 'g', model: 'gbdt', max_leaf_nodes: 31, min_samples_leaf: 20 }), []);
  const wrong = problems({ name: 'g', model: 'gbdt', hidden: [8] });
  assert.equal(wrong.length, 1);
  assert.match(wrong[0].key, /train\.candidates\.0\.hidden/);
  assert.match(wrong[0].message, /applies to networks/);
  assert.match(problems({ name: 'n', model: 'mlp', max_leaf_nodes: 31 })[0].message, /model: gbdt only/);
  assert.match(problems({ name: 'g', model: 'gbdt', max_bins: 300 })[0].key, /max_bins/);
});

test('min_samples_leaf is capped at 2 % of the training rows, at least 5', () => {
  assert.equal(effectiveMinSamplesLeaf(100, 243), 5);
  assert.equal(effectiveMinSamplesLeaf(100, 1000), 20);
  assert.equal(effectiveMinSamplesLeaf(100, 2_000_000), 100);
  assert.equal(effectiveMinSamplesLeaf(10, 2_000_000), 10);
});
