import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { writeParquetTable } from '../core/data/parquet.ts';
import { makeTable, type Table } from '../core/data/table.ts';
import { encodeFeatures, encodeTarget, fitFeatureSpec, type FeatureSpec } from '../core/model/features.ts';
import { selectBackend } from '../core/model/tfjs-backend.ts';
import type { CandidateConfig } from '../core/model/network.ts';
import { memoryLogger } from '../core/platform/log.ts';
import { seededRandom } from '../core/platform/random.ts';
import type { Params } from '../core/schemas/params.ts';
import { fitCandidate, type FitOptions } from './fit.ts';
import { readSampledRows } from './split-rows.ts';
import { openTrainStream, readTargetColumn } from './stream-epochs.ts';

type Task = 'classification' | 'regression' | 'multiclass';
const TASKS: Record<Task, object> = {
  classification: { type: 'classification', target: 'delay', positive_above: 15 },
  regression: { type: 'regression', target: 'delay' },
  multiclass: { type: 'classification', target: 'kind', classes: 'auto' },
};
const paramsOf = (task: Task) =>
  ({
    data: { source: 'x', format: 'auto', time_column: 'date' },
    task: TASKS[task],
    features: {
      distance: { kind: 'numeric', transform: 'standard', missing: 'median' },
      origin: { kind: 'categorical', min_frequency: 1, max_categories: 10 },
    },
  }) as unknown as Params;

/** Seeded rows; `distance` is distinct on every row, so an encoded row can be told apart. */
function table(n: number): Table {
  const r = seededRandom(11);
  const origin = Int32Array.from({ length: n }, () => Math.floor(r() * 4));
  return makeTable({
    date: { type: 'timestamp', values: Float64Array.from({ length: n }, (_, i) => 1e12 + i * 3_600_000) },
    distance: { type: 'number', values: Float64Array.from({ length: n }, (_, i) => 100 + i + r() * 0.5) },
    origin: { type: 'string', codes: origin, dict: ['ATL', 'LAX', 'ORD', 'SFO'] },
    delay: { type: 'number', values: Float64Array.from(origin, (o) => o * 8 + r() * 20 - 5) },
    kind: {
      type: 'string',
      codes: Int32Array.from(origin, (o) => (o + (r() < 0.3 ? 1 : 0)) % 3),
      dict: ['a', 'b', 'c'],
    },
  });
}

async function withSplit(
  n: number,
  rowGroupSize: number,
  task: Task,
  run: (path: string, spec: FeatureSpec, whole: Table) => Promise<void>,
) {
  const dir = await mkdtemp(join(tmpdir(), 'stream-epochs-'));
  try {
    const whole = table(n);
    const path = join(dir, 'train.parquet');
    await writeParquetTable(path, whole, { rowGroupSize });
    await run(path, fitFeatureSpec(whole, paramsOf(task)), whole);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const mlp: CandidateConfig = { name: 'mlp', model: 'mlp', learning_rate: 0.02, hidden: [4], embedding_dim: 2 };
const dropout: CandidateConfig = { ...mlp, name: 'dropout', dropout: 0.2 };

const options = (task: Task, y: Float32Array): FitOptions => {
  const mean = y.reduce((s, v) => s + v, 0) / y.length;
  return {
    task: task === 'regression' ? task : 'classification',
    primary: task === 'regression' ? 'rmse' : 'roc_auc',
    seed: 3,
    maxEpochs: 3,
    patience: 5,
    batchSize: 16,
    ...(task === 'regression' ? { targetScaler: { mean, std: 7 } } : { classWeight: { 0: 0.7, 1: 1.8, 2: 1.1 } }),
    ...(task === 'multiclass' ? { classes: 3 } : {}),
    log: memoryLogger(),
  };
};

const weightsOf = (model: tfjs.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

for (const task of ['classification', 'regression', 'multiclass'] as const)
  for (const cfg of [mlp, dropout])
    test(`a streamed fit over one row group equals the in-memory fit over the same rows (${task}, ${cfg.name})`, async () => {
      const { tf } = await selectBackend({ log: memoryLogger() });
      await withSplit(120, 1000, task, async (path, spec, whole) => {
        const rows = {
          enc: encodeFeatures(spec, whole),
          y: encodeTarget(spec.target, whole.columns[spec.target.column]),
        };
        const opts = options(task, rows.y);
        if (task === 'multiclass') assert.deepEqual(spec.target.classes, ['a', 'b', 'c']);
        const inMemory = await fitCandidate(tf, cfg, { train: rows, validation: rows }, opts);
        const stream = await openTrainStream(path, spec);
        assert.equal(stream.groups, 1);
        const streamed = await fitCandidate(tf, cfg, { train: rows, validation: rows, stream }, opts);
        assert.deepEqual(weightsOf(streamed.model), weightsOf(inMemory.model));
        assert.deepEqual(streamed.validationPredictions, inMemory.validationPredictions);
        assert.equal(streamed.rowsTrain, 120);
        assert.equal(streamed.validationPredictions.length, 120 * (task === 'multiclass' ? 3 : 1));
        inMemory.model.dispose();
        streamed.model.dispose();
      });
    });

test('with max_rows below the split, the networks train on every row each epoch, the sample only gives the layout', async () => {
  const { tf } = await selectBackend({ log: memoryLogger() });
  await withSplit(250, 50, 'classification', async (path, spec) => {
    const sample = (await readSampledRows(path, 60)).table;
    const rows = { enc: encodeFeatures(spec, sample), y: encodeTarget(spec.target, sample.columns.delay) };
    const stream = await openTrainStream(path, spec, 2);
    assert.deepEqual([stream.rows, stream.groups], [250, 5]);
    const visited: number[] = [];
    const counted = {
      ...stream,
      epoch: (random: () => number, visit: Parameters<typeof stream.epoch>[1]) =>
        stream.epoch(random, (part) => {
          visited.push(part.y.length);
          return visit(part);
        }),
    };
    const fit = await fitCandidate(
      tf,
      mlp,
      { train: rows, validation: rows, stream: counted },
      options('classification', rows.y),
    );
    assert.equal(fit.epochs, 3);
    assert.equal(fit.rowsTrain, 250);
    // Three epochs of five groups two at a time: 100, 100, 50 rows each.
    assert.deepEqual(
      visited.sort((a, b) => a - b),
      [50, 50, 50, 100, 100, 100, 100, 100, 100],
    );
    fit.model.dispose();
  });
});

test('an epoch visits every row once, in a group order that changes from epoch to epoch', async () => {
  await withSplit(230, 40, 'classification', async (path, spec, whole) => {
    const stream = await openTrainStream(path, spec, 2);
    const all = encodeFeatures(spec, whole);
    const width = all.numericNames.length;
    const column = (enc: typeof all) => Array.from({ length: enc.rows }, (_, r) => enc.numeric[r * width]);
    const random = seededRandom(5);
    const orders: number[][] = [];
    for (let e = 0; e < 3; e++) {
      const seen: number[] = [];
      const labels: number[] = [];
      const rows = await stream.epoch(random, ({ enc, y }) => {
        seen.push(...column(enc));
        labels.push(...y);
      });
      assert.equal(rows, 230);
      // Each part is encoded with the spec: the same values as encoding the whole table, each row once.
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        column(all).sort((a, b) => a - b),
      );
      const labelOf = new Map(column(all).map((v, i) => [v, encodeTarget(spec.target, whole.columns.delay)[i]]));
      assert.deepEqual(
        labels,
        seen.map((v) => labelOf.get(v)),
      );
      orders.push(seen.slice(0, 40));
    }
    assert.notDeepEqual(orders[0], orders[1]);
  });
});

test('readTargetColumn is the whole split target, read a row group at a time', async () => {
  for (const task of ['classification', 'regression', 'multiclass'] as const)
    await withSplit(230, 40, task, async (path, spec, whole) => {
      assert.deepEqual(
        await readTargetColumn(path, spec),
        encodeTarget(spec.target, whole.columns[spec.target.column]),
      );
    });
});

test('buffers are of near-equal size: nine groups four at a time are read three at a time', async () => {
  await withSplit(450, 50, 'classification', async (path, spec) => {
    const stream = await openTrainStream(path, spec, 4);
    const sizes: number[] = [];
    assert.equal(await stream.epoch(seededRandom(3), ({ y }) => void sizes.push(y.length)), 450);
    assert.deepEqual(sizes, [150, 150, 150]);
  });
});

test('a split replaced after train opened it stops the epoch with the file, group and what to run', async () => {
  await withSplit(100, 50, 'classification', async (path, spec, whole) => {
    const stream = await openTrainStream(path, spec, 1);
    await writeParquetTable(path, whole, { rowGroupSize: 25 });
    await assert.rejects(
      stream.epoch(seededRandom(3), () => {}),
      (e: Error) =>
        e.message.includes(path) && /row group \d \(rows/.test(e.message) && /run prepare again/.test(e.message),
    );
  });
});
