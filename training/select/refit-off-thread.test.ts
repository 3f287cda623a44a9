import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readParquetTable } from '../../core/data/parquet.ts';
import { readArtifactFileAt } from '../../core/model/artifact-files.ts';
import type { FeatureSpec } from '../../core/model/features.ts';
import { memoryLogger } from '../../core/platform/log.ts';
import { ingest } from '../stages/ingest.ts';
import { validate } from '../stages/validate.ts';
import { prepare } from '../stages/prepare.ts';
import { train } from '../stages/train.ts';
import { flightsCsv, noTrack, tempRepo, testParams, writeSource } from '../../harness/testing/training/fixtures.ts';
import { refitTreesOnAll } from '../gbdt/fit-gbdt.ts';
import { SMALL_DATA_ROWS } from '../gbdt/defaults.ts';
import { FEATURE_SPEC_FILE, MODEL_DIR, PREPARED_DIR } from '../contracts/paths.ts';
import { speculateRefit, startRefitOffThread } from './refit-off-thread.ts';
import { newProgress, pendingCount, tellBest, tellCount } from './refit-progress.ts';

const gbdt = { name: 'gbdt', model: 'gbdt' as const, learning_rate: 0.3, max_iter: 30, max_leaf_nodes: 8, patience: 5 };
const mlp = { name: 'mlp', model: 'mlp' as const, hidden: [8], embedding_dim: 2, learning_rate: 0.01 };

/** A prepared repository of `rows` flights; `train` runs its train stage with these candidates. */
async function preparedRepo(rows: number) {
  const repo = await tempRepo();
  const src = await writeSource(repo, 'src.csv', flightsCsv(rows));
  const base = await testParams();
  const params = await testParams({
    data: { source: src },
    ingest: { batch_size: rows, batches_per_run: 0, max_batches: 0 },
    train: { ...base.train!, max_epochs: 1, patience: 1, batch_size: 256, golden_examples: 5, candidates: [gbdt, mlp] },
  });
  const log = memoryLogger();
  await ingest({ repoRoot: repo, params, log, track: noTrack });
  await validate({ repoRoot: repo, params, log });
  await prepare({ repoRoot: repo, params, log });
  const dir = join(repo, PREPARED_DIR);
  const spec: FeatureSpec = await readArtifactFileAt(join(dir, FEATURE_SPEC_FILE), 'featureSpec', 'prepare');
  const tables = {
    train: await readParquetTable(join(dir, 'train.parquet')),
    validation: await readParquetTable(join(dir, 'validation.parquet')),
  };
  return { repo, params, spec, tables };
}

const options = { task: 'classification' as const, seed: 42 };

test('the refit starts beside the first fit only with a core to spare, one tree candidate, no screening, the refit on, a table not small', () => {
  const base = { trees: 1, spare: true, screening: false, refitEpochs: 1, rows: SMALL_DATA_ROWS + 1 };
  assert.equal(speculateRefit(base), true);
  assert.equal(speculateRefit({ ...base, spare: false }), false, 'no core to spare');
  assert.equal(speculateRefit({ ...base, trees: 0 }), false, 'no trees');
  assert.equal(speculateRefit({ ...base, trees: 2 }), false, 'a grid of trees');
  assert.equal(speculateRefit({ ...base, screening: true }), false);
  assert.equal(speculateRefit({ ...base, refitEpochs: 0 }), false, 'refit off');
  assert.equal(speculateRefit({ ...base, rows: SMALL_DATA_ROWS }), false, 'small: cross-validated count');
  assert.equal(speculateRefit(base, { TRAIN_SPECULATIVE_REFIT: '0' }), false);
  assert.equal(speculateRefit({ ...base, spare: false }, { TRAIN_SPECULATIVE_REFIT: '1' }), true, 'asked for');
  assert.equal(speculateRefit({ ...base, trees: 2 }, { TRAIN_SPECULATIVE_REFIT: '1' }), false);
});

test('a refit whose count arrives late (while boosting or after max_iter) keeps the same trees as one told it first', async () => {
  const { spec, tables } = await preparedRepo(600);
  const log = memoryLogger();
  const told = refitTreesOnAll(gbdt, spec, tables, 12, { ...options, log });
  assert.equal(told.model.json.trees.length, 12);
  // Known after iteration 20: boosting goes past 12 and keeps the first 12.
  let boosted = 0;
  const late = refitTreesOnAll(
    gbdt,
    spec,
    tables,
    { after: (it) => ((boosted = it) > 20 ? 12 : 0), wait: () => 12, known: () => boosted > 20 },
    { ...options, log },
  );
  assert.equal(boosted, 21, 'it boosted past the count before learning it');
  assert.deepEqual(late.model.json, told.model.json);
  assert.deepEqual(late.predictions, told.predictions);
  // Never known while boosting: max_iter (30), then the count.
  const after = refitTreesOnAll(
    gbdt,
    spec,
    tables,
    { after: () => 0, wait: () => 12, known: () => false },
    { ...options, log },
  );
  assert.deepEqual(after.model.json, told.model.json);
});

test("a refit on a worker gives this thread's trees; a cancelled one stops, asleep or not", async () => {
  const { spec, tables } = await preparedRepo(600);
  const log = memoryLogger();
  const here = refitTreesOnAll(gbdt, spec, tables, 9, { ...options, log });
  // No first fit tells it a best iteration: it sleeps after its first tree until it is told the count.
  const there = startRefitOffThread(newProgress(), 0, gbdt, spec, tables, { ...options, log });
  const done = await there.finish(9, log);
  assert.ok(done);
  assert.deepEqual(done.model.json, here.model.json);
  assert.deepEqual(done.record.iterations, 9);
  const endless = startRefitOffThread(newProgress(), 0, gbdt, spec, tables, { ...options, log });
  endless.cancel();
  await assert.rejects(endless.finish(5, log), /cancelled/);
});

test('the refit goes on only below the best iteration so far, and stops at the count once told', () => {
  const progress = newProgress();
  const pending = pendingCount(progress);
  tellBest(progress, 3);
  assert.equal(pending.after(1), 0);
  assert.equal(pending.after(2), 0);
  tellCount(progress, 5);
  assert.equal(pending.after(3), 5, 'not asleep at 3: the count is known');
  assert.equal(pending.wait(), 5);
  const none = newProgress();
  tellCount(none, 0);
  assert.equal(pendingCount(none).wait(), 1, 'a fit that kept no iteration still refits one tree, as after it');
});

test('the train stage writes the same bundle with the refit started beside the fit as after it', async () => {
  const { repo, params } = await preparedRepo(SMALL_DATA_ROWS + 2000);
  const bundles = [];
  // After the fit; beside the fit on a worker; beside the fit on this thread (no network to overlap).
  const arms = [
    { speculative: '0', candidates: [gbdt, mlp] },
    { speculative: '1', candidates: [gbdt, mlp] },
    { speculative: '1', candidates: [gbdt] },
  ];
  for (const { speculative, candidates } of arms) {
    process.env.TRAIN_PARALLEL = '1';
    process.env.TRAIN_SPECULATIVE_REFIT = speculative;
    try {
      const log = memoryLogger();
      await train({ repoRoot: repo, params: { ...params, train: { ...params.train!, candidates } }, log });
      const said = log.lines.some((l) => l.includes('refitting gbdt on train + validation on another worker'));
      assert.equal(said, speculative === '1');
      const onWorker = log.lines.some((l) => l.includes('fitting gbdt on a worker thread'));
      assert.equal(onWorker, candidates.length > 1);
      const trees = await readFile(join(repo, MODEL_DIR, 'trees.json'), 'utf8');
      const golden = await readFile(join(repo, MODEL_DIR, 'golden.json'), 'utf8');
      bundles.push({ trees, golden });
    } finally {
      delete process.env.TRAIN_PARALLEL;
      delete process.env.TRAIN_SPECULATIVE_REFIT;
    }
  }
  assert.ok(bundles[0].trees.length > 100, 'the trees won (the comparison covers the refitted trees)');
  assert.deepEqual(bundles[1], bundles[0]);
  assert.deepEqual(bundles[2], bundles[0]);
});
