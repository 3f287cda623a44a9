import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ingest } from './ingest.ts';
import { validate } from './validate.ts';
import { prepare, PREPARED_DIR, FEATURE_SPEC_FILE, PROFILE_FILE } from './prepare.ts';
import { readParquetTable, writeParquetTable } from '../../core/data/parquet.ts';
import { cellValue, takeRows } from '../../core/data/table.ts';
import { VALIDATED_DIR, VALIDATED_FILE } from '../contracts/paths.ts';
import type { CategoricalFeature, FeatureSpec } from '../../core/model/features.ts';
import type { ReferenceProfile } from '../../core/model/profile.ts';
import {
  flightsCsv,
  noTrack,
  quietLog,
  tempRepo,
  testParams,
  writeSource,
} from '../../harness/testing/training/fixtures.ts';
import type { Params } from '../../core/schemas/params.ts';

async function pipelineOn(csv: string, split: Partial<Params['split']> = {}) {
  const repo = await tempRepo();
  const src = await writeSource(repo, 'src.csv', csv);
  const params = await testParams({
    data: { source: src },
    ingest: { batch_size: 100, batches_per_run: 0, max_batches: 0 },
    split,
  });
  // Exactly these features (testParams merges sections, which would keep params.yaml's crosses of a date part dropped here).
  params.features = {
    date: { kind: 'datetime', parts: ['hour'] },
    distance: { kind: 'numeric', transform: 'standard', missing: 'median' },
    origin: { kind: 'categorical', min_frequency: 1, max_categories: 50 },
    destination: { kind: 'categorical', min_frequency: 20, max_categories: 300 },
  };
  await ingest({ repoRoot: repo, params, log: quietLog(), track: noTrack });
  await validate({ repoRoot: repo, params, log: quietLog() });
  const result = await prepare({ repoRoot: repo, params, log: quietLog() });
  return { repo, params, ...result };
}

test('time split: test is the latest period and the spec is fitted on train only', async () => {
  // The last 30 records come from an airport never seen before: it must not enter the vocabulary.
  const lines = flightsCsv(200).split('\n');
  for (let i = 171; i <= 200; i++) lines[i] = lines[i].replace(/,([A-Z]{3}),([A-Z]{3})$/, ',NEW,$2');
  const { repo, spec, metrics } = await pipelineOn(lines.join('\n'));
  const origin = spec.features.find((f) => f.name === 'origin') as CategoricalFeature;
  assert.ok(!origin.vocabulary.includes('NEW'));
  assert.equal(metrics.test_rows, 30);
  assert.equal(metrics.validation_rows, 30);
  assert.equal(metrics.train_rows, 140);
  assert.equal(metrics.test_oov_rate_origin, 1);
  const train = await readParquetTable(join(repo, PREPARED_DIR, 'train.parquet'));
  const test_ = await readParquetTable(join(repo, PREPARED_DIR, 'test.parquet'));
  let maxTrain = -Infinity,
    minTest = Infinity;
  for (let i = 0; i < train.length; i++) maxTrain = Math.max(maxTrain, cellValue(train.columns.date, i) as number);
  for (let i = 0; i < test_.length; i++) minTest = Math.min(minTest, cellValue(test_.columns.date, i) as number);
  assert.ok(maxTrain < minTest);
  const saved = JSON.parse(await readFile(join(repo, PREPARED_DIR, FEATURE_SPEC_FILE), 'utf8')) as FeatureSpec;
  assert.deepEqual(saved, JSON.parse(JSON.stringify(spec)));
  const profile = JSON.parse(await readFile(join(repo, PREPARED_DIR, PROFILE_FILE), 'utf8')) as ReferenceProfile;
  assert.equal(profile.rows, 140);
  assert.equal(profile.features.distance.kind, 'numeric');
  assert.ok(profile.features['date.hour']);
});

test('hash split mixes periods and keeps the data columns it needs', async () => {
  const { repo, metrics } = await pipelineOn(flightsCsv(300), { method: 'hash' });
  assert.equal(
    (metrics.train_rows as number) + (metrics.validation_rows as number) + (metrics.test_rows as number),
    300,
  );
  const t = await readParquetTable(join(repo, PREPARED_DIR, 'test.parquet'));
  assert.deepEqual(Object.keys(t.columns).sort(), ['__row', 'date', 'delay', 'destination', 'distance', 'origin']);
  assert.ok(metrics.test_first_time! < metrics.train_last_time!, 'hash split draws test rows from the whole period');
});

test('validated rows out of time order are split as when sorted (the time column read whole), row groups or not', async () => {
  const { repo, params, metrics } = await pipelineOn(flightsCsv(300));
  const rowsOf = async (split: string) => {
    const t = await readParquetTable(join(repo, PREPARED_DIR, `${split}.parquet`));
    return Array.from({ length: t.length }, (_, i) => cellValue(t.columns.__row, i) as number).sort((a, b) => a - b);
  };
  const sorted = {
    train: await rowsOf('train'),
    test: await rowsOf('test'),
    spec: await readFile(join(repo, PREPARED_DIR, FEATURE_SPEC_FILE), 'utf8'),
  };
  const path = join(repo, VALIDATED_DIR, VALIDATED_FILE);
  const validated = await readParquetTable(path);
  const reversed = Uint32Array.from({ length: validated.length }, (_, i) => validated.length - 1 - i);
  // Small row groups, so the split is applied across several of them.
  await writeParquetTable(path, takeRows(validated, reversed), { rowGroupSize: 64 });
  const again = await prepare({ repoRoot: repo, params, log: quietLog() });
  for (const key of [
    'train_rows',
    'validation_rows',
    'test_rows',
    'train_first_time',
    'test_last_time',
    'test_positive_rate',
  ])
    assert.equal(again.metrics[key], metrics[key], key);
  assert.deepEqual(await rowsOf('train'), sorted.train);
  assert.deepEqual(await rowsOf('test'), sorted.test);
  // The spec does not depend on the order of the training rows (sums aside, which agree to rounding).
  const spec = JSON.parse(await readFile(join(repo, PREPARED_DIR, FEATURE_SPEC_FILE), 'utf8')) as FeatureSpec;
  const before = JSON.parse(sorted.spec) as FeatureSpec;
  assert.deepEqual(
    spec.features.map((f) => (f.kind === 'numeric' ? f.fill : 'vocabulary' in f ? f.vocabulary.join() : f.name)),
    before.features.map((f) => (f.kind === 'numeric' ? f.fill : 'vocabulary' in f ? f.vocabulary.join() : f.name)),
  );
});

test('a binary target with one label in train refuses before replacing the outputs, naming the fix', async () => {
  const { repo, params } = await pipelineOn(flightsCsv(200));
  const before = await readFile(join(repo, PREPARED_DIR, FEATURE_SPEC_FILE), 'utf8');
  for (const [above, label] of [
    [100_000, 0],
    [-100_000, 1],
  ]) {
    params.task.positive_above = above;
    await assert.rejects(
      prepare({ repoRoot: repo, params, log: quietLog() }),
      new RegExp(
        `every one of the \\d+ train rows has label ${label} \\(task.target "delay" .*set task.positive_above inside the target's range \\(its values there: -?\\d+ to -?\\d+\\)`,
      ),
    );
    assert.equal(await readFile(join(repo, PREPARED_DIR, FEATURE_SPEC_FILE), 'utf8'), before, 'previous outputs kept');
  }
  params.task.positive_above = 15;
  await prepare({ repoRoot: repo, params, log: quietLog() });
});

test('a label only the latest records hold, under a time split, says the split hides it and to hash instead', async () => {
  const lines = flightsCsv(200).split('\n');
  for (let i = 141; i <= 200; i++) lines[i] = lines[i].replace(/,([A-Z]{3})$/, ',ZZZ');
  const { repo, params } = await pipelineOn(lines.join('\n'));
  params.task = { type: 'classification', target: 'destination', positive_class: 'ZZZ' };
  params.features = { distance: { kind: 'numeric', transform: 'standard', missing: 'median' } };
  await assert.rejects(
    prepare({ repoRoot: repo, params, log: quietLog() }),
    /never holds "ZZZ" in the training split.*split\.method: time holds out the latest 30% of records \(by data\.time_column date\).*use split\.method: hash/,
  );
  params.split = { ...params.split, method: 'hash', hash_key: ['date'] };
  await prepare({ repoRoot: repo, params, log: quietLog() });
});

test('a class only the latest records hold, under a time split, says the split hides it too', async () => {
  const lines = flightsCsv(200).split('\n');
  for (let i = 171; i <= 200; i++) lines[i] = lines[i].replace(/,([A-Z]{3}),([A-Z]{3})$/, ',NEW,$2');
  const { repo, params } = await pipelineOn(lines.join('\n'));
  params.task = { type: 'classification', target: 'origin', classes: 'auto' };
  params.features = { distance: { kind: 'numeric', transform: 'standard', missing: 'median' } };
  await assert.rejects(
    prepare({ repoRoot: repo, params, log: quietLog() }),
    /the label "NEW" at row \d+, which the training split never shows.*split\.method: time holds out the latest 30% .*use split\.method: hash/,
  );
});
