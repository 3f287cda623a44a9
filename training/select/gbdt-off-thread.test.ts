import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { trainedRepo } from '../../harness/testing/training/pipeline.ts';
import { readParquetTable } from '../../core/data/parquet.ts';
import { readArtifactFileAt } from '../../core/model/artifact-files.ts';
import { encodeFeatures, encodeTarget, type FeatureSpec } from '../../core/model/features.ts';
import { memoryLogger } from '../../core/platform/log.ts';
import { fitGbdt } from '../gbdt/fit-gbdt.ts';
import { newBoard, rivalBest } from '../prune.ts';
import { EXPERIMENTS_FILE, FEATURE_SPEC_FILE, MODEL_DIR, PREPARED_DIR } from '../contracts/paths.ts';
import {
  COPY_HEADROOM,
  fitGbdtOffThread,
  fitTreesOffThread,
  spareCore,
  trainingLoad,
  typedArrayBytes,
} from './gbdt-off-thread.ts';

const gbdt = { name: 'gbdt', model: 'gbdt' as const, learning_rate: 0.3, max_iter: 25, max_leaf_nodes: 8, patience: 5 };
const mlp = { name: 'mlp', model: 'mlp' as const, hidden: [8], embedding_dim: 2, learning_rate: 0.01 };

test('trees go to a worker only with networks to overlap, two cores, memory for the copies and CPU to spare (or TRAIN_PARALLEL=1: any memory, any load)', () => {
  const GB = 2 ** 30;
  const on = (models: string[], bytes = 1000, env = {}, cores = 2, load = 0.3, free = 8 * GB) =>
    fitTreesOffThread(models, bytes, load, env, cores, free);
  assert.equal(on(['mlp', 'gbdt']), true);
  assert.equal(on(['gbdt', 'mlp', 'gbdt']), true);
  assert.equal(on(['gbdt', 'gbdt']), false, 'nothing to overlap with');
  assert.equal(on(['mlp', 'logistic']), false, 'no trees');
  assert.equal(on(['mlp', 'gbdt'], 1000, {}, 1), false, 'one core');
  assert.equal(
    on(['mlp', 'gbdt'], (2 * GB) / COPY_HEADROOM, {}, 2, 0.3, 2 * GB),
    true,
    'the copies fit, with headroom',
  );
  assert.equal(on(['mlp', 'gbdt'], (2 * GB) / COPY_HEADROOM + 1, {}, 2, 0.3, 2 * GB), false, 'too little free memory');
  assert.equal(
    on(['mlp', 'gbdt', 'gbdt'], (1.5 * GB) / COPY_HEADROOM, {}, 2, 0.3, 2 * GB),
    false,
    'one copy per tree candidate',
  );
  assert.equal(on(['mlp', 'gbdt'], 4 * GB, { TRAIN_PARALLEL: '1' }, 2, 0.3, GB), true, 'asked for: any memory');
  assert.equal(on(['mlp', 'gbdt'], 1000, { TRAIN_PARALLEL: '0' }), false);
  assert.equal(on(['mlp', 'gbdt'], 1000, {}, 2, 2.5), false, 'no CPU to spare: the worker would only compete');
  assert.equal(on(['mlp', 'gbdt'], 1000, {}, 4, 2.5), true, 'four cores, load 2.5');
  assert.equal(on(['mlp', 'gbdt'], 1000, { TRAIN_PARALLEL: '1' }, 2, 12), true, 'asked for');
  assert.equal(on(['gbdt', 'gbdt'], 1000, { TRAIN_PARALLEL: '1' }), false, 'asked for, but nothing to overlap');
});

test('the bytes a copy of rows takes: every typed array, however nested', () => {
  const rows = {
    enc: { rows: 3, numeric: new Float32Array(6), categorical: [{ name: 'a', codes: new Int32Array(3) }], oov: {} },
    table: { length: 3, columns: { t: { type: 'timestamp', values: new Float64Array(3) } } },
    y: new Float32Array(3),
  };
  assert.equal(typedArrayBytes(rows), 6 * 4 + 3 * 4 + 3 * 8 + 3 * 4);
  assert.equal(typedArrayBytes(new Float64Array(new ArrayBuffer(80), 16, 2)), 16, 'a view counts its own bytes');
  assert.equal(typedArrayBytes({ s: 'text', n: 5, x: null }), 0);
});

test('a core to spare for another training thread: two cores and a load below their count, or TRAIN_PARALLEL=1', () => {
  assert.equal(spareCore(1.5, {}, 2), true);
  assert.equal(spareCore(2.5, {}, 2), false);
  assert.equal(spareCore(0.1, {}, 1), false);
  assert.equal(spareCore(9, { TRAIN_PARALLEL: '1' }, 1), true);
  assert.equal(spareCore(0, { TRAIN_PARALLEL: '0' }, 8), false);
});

test('the training load is this thread plus the cores busy elsewhere in the sampled window: not the past minute, not this process', async () => {
  type Sample = { idle: number; total: number; own: number; cores: number };
  const samples =
    (...xs: Sample[]) =>
    () =>
      xs.shift()!;
  // Two cores, 200 ms each: 300 of the 400 core-ms idle, none of it this process: half a core busy elsewhere.
  const half = samples({ idle: 1000, total: 5000, own: 50, cores: 2 }, { idle: 1300, total: 5400, own: 50, cores: 2 });
  assert.equal(await trainingLoad(1, half), 1.5);
  const both = samples({ idle: 0, total: 0, own: 0, cores: 2 }, { idle: 0, total: 400, own: 0, cores: 2 });
  assert.equal(await trainingLoad(1, both), 3, 'both cores busy elsewhere');
  // The same 400 core-ms busy, but 300 of them this process's own threads: half a core elsewhere.
  const own = samples({ idle: 0, total: 0, own: 10, cores: 2 }, { idle: 0, total: 400, own: 310, cores: 2 });
  assert.equal(await trainingLoad(1, own), 1.5);
  const none = samples({ idle: 7, total: 9, own: 1, cores: 4 }, { idle: 7, total: 9, own: 1, cores: 4 });
  assert.equal(await trainingLoad(1, none), 1, 'no tick seen: idle');
  const real = await trainingLoad(20);
  assert.ok(real >= 1 && real <= 1 + availableParallelism(), `a real sample: ${real}`);
});

async function preparedRows(repo: string) {
  const dir = join(repo, PREPARED_DIR);
  const spec: FeatureSpec = await readArtifactFileAt(join(dir, FEATURE_SPEC_FILE), 'featureSpec', 'prepare');
  const rows = async (split: string) => {
    const table = await readParquetTable(join(dir, `${split}.parquet`));
    return { table, enc: encodeFeatures(spec, table), y: encodeTarget(spec.target, table.columns[spec.target.column]) };
  };
  return { spec, data: { train: await rows('train'), validation: await rows('validation') } };
}

test('a worker fits the same trees, scores and stopping point as this thread, and its log lines come out here', async () => {
  const { repo } = await trainedRepo({}, { max_epochs: 1 });
  const { spec, data } = await preparedRows(repo);
  const options = { task: 'classification' as const, primary: 'roc_auc' as const, seed: 42 };
  const hereLog = memoryLogger();
  const here = fitGbdt(gbdt, spec, data, { ...options, log: hereLog });
  const thereLog = memoryLogger();
  const board = newBoard();
  const there = await fitGbdtOffThread(gbdt, spec, data, { ...options, log: thereLog, board });
  assert.deepEqual(there.model.json, here.model.json);
  // Its best validation value reached the networks' board (train.prune) as the fit reports it.
  assert.ok(Math.abs(rivalBest(board) - there.bestValue) < 1e-12, `${rivalBest(board)} vs ${there.bestValue}`);
  assert.deepEqual(there.validationPredictions, here.validationPredictions);
  assert.deepEqual([there.bestValue, there.bestEpoch, there.epochs], [here.bestValue, here.bestEpoch, here.epochs]);
  // The same messages at the same levels, seconds aside.
  const messages = (l: { lines: string[] }) =>
    l.lines.map((line) => {
      const { level, msg } = JSON.parse(line) as { level: string; msg: string };
      return `${level} ${msg.replace(/[\d.]+ s\b/g, '… s')}`;
    });
  assert.ok(messages(hereLog).length >= 2);
  assert.deepEqual(messages(thereLog), messages(hereLog));
});

test("a fit that fails in the worker fails with fitGbdt's own message; an abandoned one stops", async () => {
  const { repo } = await trainedRepo({}, { max_epochs: 1 });
  const { spec, data } = await preparedRows(repo);
  const options = { task: 'classification' as const, primary: 'roc_auc' as const, seed: 42, log: memoryLogger() };
  const broken = { ...data, validation: { ...data.validation, table: { ...data.validation.table, columns: {} } } };
  let hereMessage = '';
  try {
    fitGbdt(gbdt, spec, broken, options);
  } catch (err) {
    hereMessage = (err as Error).message;
  }
  assert.ok(hereMessage, 'the broken rows fail on this thread');
  await assert.rejects(fitGbdtOffThread(gbdt, spec, broken, options), (err: Error) => {
    assert.equal(err.constructor, Error, 'not OffThreadUnavailable: the caller must not retry it here');
    assert.equal(err.message, hereMessage);
    return true;
  });
  const stop = new AbortController();
  const fit = fitGbdtOffThread({ ...gbdt, max_iter: 100_000, patience: 100_000 }, spec, data, {
    ...options,
    signal: stop.signal,
  });
  stop.abort(new Error('another candidate failed'));
  await assert.rejects(fit, /another candidate failed/);
});

test('the train stage writes the same model and experiment runs with the trees on a worker as on one thread', async () => {
  const outputs = [];
  // '1': on a worker whatever the machine's load (the test must not depend on it).
  for (const parallel of ['0', '1']) {
    process.env.TRAIN_PARALLEL = parallel;
    try {
      const { repo, log } = await trainedRepo({}, { max_epochs: 2, candidates: [gbdt, mlp] });
      const said = log.lines.some((l) =>
        l.includes('fitting gbdt on a worker thread while the other candidates train'),
      );
      assert.equal(said, parallel === '1', `TRAIN_PARALLEL=${parallel}`);
      const runs = JSON.parse(await readFile(join(repo, EXPERIMENTS_FILE), 'utf8')) as {
        latest: { candidates: Record<string, Record<string, unknown>> };
      };
      // Seconds and rows per second are the only figures that may differ.
      for (const c of Object.values(runs.latest.candidates)) {
        delete c.duration_s;
        delete c.rows_per_s;
      }
      outputs.push({
        trees: await readFile(join(repo, MODEL_DIR, 'trees.json'), 'utf8').catch(() => null),
        golden: await readFile(join(repo, MODEL_DIR, 'golden.json'), 'utf8'),
        candidates: runs.latest.candidates,
      });
    } finally {
      delete process.env.TRAIN_PARALLEL;
    }
  }
  assert.ok(outputs[0].trees, 'the trees won on this data (the comparison covers the tree bundle)');
  assert.deepEqual(outputs[1], outputs[0]);
});
