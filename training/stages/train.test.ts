import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  train,
  MODEL_DIR,
  EXPERIMENTS_FILE,
  experimentsFile,
  inputSchemaOf,
  readExperiments,
  targetRangeOf,
  type ExperimentRun,
} from './train.ts';
import { dvcDroppedPaths, parseMetrics } from '../../core/schemas/metrics-files.ts';
import { applyCalibration } from '../../core/model/calibration.ts';
import { evaluate, EVALUATE_METRICS } from './evaluate.ts';
import { loadBundle, outputsFromModel } from '../../core/model/bundle.ts';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import { recordsToTable, type InputSchema } from '../../core/data/records.ts';
import type { FeatureSpec } from '../../core/model/features.ts';
import { epochLearningRate, expandCandidates, permutation } from '../fit.ts';
import { seededRandom } from '../../core/platform/random.ts';
import { quietLog, tempRepo, testParams } from '../../harness/testing/training/fixtures.ts';
import { trainedRepo } from '../../harness/testing/training/pipeline.ts';
import { readParquetTable } from '../../core/data/parquet.ts';
import { PREPARED_DIR } from '../contracts/paths.ts';

test('classification: candidates are logged, the bundle reloads and reproduces its golden outputs exactly', async () => {
  const { repo, summary, params } = await trainedRepo();
  assert.equal(summary.candidates, 2);
  const raw = JSON.parse(await readFile(join(repo, EXPERIMENTS_FILE), 'utf8'));
  assert.deepEqual(dvcDroppedPaths(raw), [], 'dvc metrics show sees every run (keyed, not a list)');
  const log = parseMetrics('experiments', { json: raw });
  assert.equal(log.runs.length, 2);
  assert.equal(log.runs.filter((r: { selected: boolean }) => r.selected).length, 1);
  for (const r of log.runs) {
    assert.equal(r.backend, 'wasm');
    assert.ok((r.epochs ?? 0) >= 1 && (r.duration_s ?? 0) > 0 && (r.rows_per_s ?? 0) > 0);
    assert.ok(typeof r.val.roc_auc === 'number');
  }
  const { tf } = await selectBackend({});
  const bundle = await loadBundle(tf, join(repo, MODEL_DIR));
  try {
    assert.equal(bundle.golden.length, 5);
    const { predictions, errors } = bundle.predictRecords(bundle.golden.map((g) => g.record));
    assert.ok(errors.every((e) => e.length === 0));
    assert.deepEqual(
      predictions,
      bundle.golden.map((g) => g.expected),
      'bit-identical to what training computed',
    );
    assert.ok(bundle.meta.threshold! > 0 && bundle.meta.threshold! < 1);
    assert.equal(bundle.meta.input_schema.distance.type, 'number');
    // Same records through the training-time path (a table built by the same converter).
    const { table } = recordsToTable(
      bundle.golden.map((g) => g.record),
      bundle.meta.input_schema,
    );
    assert.deepEqual(
      Array.from(outputsFromModel(tf, bundle.model, bundle.meta, bundle.spec, table)),
      bundle.golden.map((g) => g.expected),
    );
  } finally {
    bundle.dispose();
  }
  // A second training run appends to the experiment log instead of replacing it.
  await train({ repoRoot: repo, params, log: quietLog() });
  const againRaw = JSON.parse(await readFile(join(repo, EXPERIMENTS_FILE), 'utf8'));
  const again = parseMetrics('experiments', { json: againRaw });
  assert.equal(again.runs.length, 4);
  assert.deepEqual(Object.keys(againRaw.latest.candidates).sort(), ['logreg', 'mlp']);
  assert.equal(againRaw.latest.run_id, again.runs[3].run_id);
});

test('the served probability is calibrated on validation; the threshold is chosen on calibrated scores', async () => {
  const { repo } = await trainedRepo();
  const { tf } = await selectBackend({});
  const bundle = await loadBundle(tf, join(repo, MODEL_DIR));
  try {
    const cal = bundle.meta.calibration!;
    assert.ok(cal && (cal.method === 'platt' || cal.method === 'beta' || cal.method === 'isotonic'));
    const fit = bundle.meta.metrics.calibration as { method: string; cross_fitted_log_loss: Record<string, number> };
    assert.equal(fit.method, cal.method);
    const losses = fit.cross_fitted_log_loss;
    assert.ok(
      cal.method === 'platt' || losses[cal.method] < losses.platt,
      'a method other than Platt is chosen only for a lower cross-fitted log loss',
    );
    // Golden outputs are calibrated: raw model output through the stored calibration.
    const { table } = recordsToTable(
      bundle.golden.map((g) => g.record),
      bundle.meta.input_schema,
    );
    const raw = bundle.predictTable(table, { raw: true });
    bundle.golden.forEach((g, i) => assert.ok(Math.abs(g.expected - applyCalibration(cal, raw[i])) < 1e-6));
    // Both fits contain the identity map (Platt a=1, b=0; isotonic: the raw scores are monotone in
    // themselves) and maximise the likelihood on validation, so there the log loss cannot get worse.
    const v = bundle.meta.metrics.validation as { log_loss: number };
    const rawV = bundle.meta.metrics.validation_uncalibrated as { log_loss: number };
    assert.ok(v.log_loss <= rawV.log_loss + 1e-6, `${v.log_loss} vs ${rawV.log_loss}`);
  } finally {
    bundle.dispose();
  }
});

test('a bundle written before calibration (no calibration in bundle.json) still loads and serves its raw outputs', async () => {
  const { repo } = await trainedRepo();
  const { tf } = await selectBackend({});
  const old = join(repo, 'old-bundle');
  await cp(join(repo, MODEL_DIR), old, { recursive: true });
  const meta = JSON.parse(await readFile(join(old, 'bundle.json'), 'utf8'));
  delete meta.calibration;
  await writeFile(join(old, 'bundle.json'), JSON.stringify(meta));
  const current = await loadBundle(tf, join(repo, MODEL_DIR));
  const { table } = recordsToTable(
    current.golden.map((g) => g.record),
    current.meta.input_schema,
  );
  const raw = Array.from(current.predictTable(table, { raw: true }));
  current.dispose();
  await writeFile(
    join(old, 'golden.json'),
    JSON.stringify(current.golden.map((g, i) => ({ record: g.record, expected: raw[i] }))),
  );
  const bundle = await loadBundle(tf, old);
  try {
    assert.equal(bundle.meta.calibration, undefined);
    assert.ok(bundle.checkGolden().ok);
    assert.deepEqual(Array.from(bundle.predictTable(table)), raw);
  } finally {
    bundle.dispose();
  }
});

test("bundle.json target_range: a numeric target's validate.schema min and max; none for class labels or a target without bounds", () => {
  const schema = { y: { type: 'number' as const, required: true, min: 0, max: 100 } };
  const validate = { schema };
  assert.deepEqual(targetRangeOf({ task: { type: 'regression', target: 'y' }, validate }), {
    target_range: { min: 0, max: 100 },
  });
  assert.deepEqual(targetRangeOf({ task: { type: 'classification', target: 'y', positive_above: 15 }, validate }), {
    target_range: { min: 0, max: 100 },
  });
  assert.deepEqual(
    targetRangeOf({
      task: { type: 'regression', target: 'y' },
      validate: { schema: { y: { ...schema.y, max: undefined } } },
    }),
    { target_range: { min: 0 } },
  );
  const labels = { schema: { y: { type: 'category' as const, required: true } } };
  assert.deepEqual(
    targetRangeOf({ task: { type: 'classification', target: 'y', classes: 'auto' }, validate: labels }),
    {},
  );
  assert.deepEqual(
    targetRangeOf({
      task: { type: 'regression', target: 'y' },
      validate: { schema: { y: { type: 'number', required: true } } },
    }),
    {},
  );
});

test('experiments file: flat latest/best summaries that dvc metrics show displays, full history under runs', () => {
  const run = (id: string, candidate: string, value: number | null, selected: boolean, metric = 'roc_auc') =>
    ({
      run_id: id,
      candidate,
      val: { [metric]: value },
      epochs: 3,
      duration_s: 1.5,
      rows_per_s: 1000,
      selected,
    }) as unknown as ExperimentRun;
  const f = experimentsFile(
    [
      run('r1', 'a', 0.7, true),
      run('r1', 'b', 0.6, false),
      run('r2', 'a', 0.65, false),
      run('r2', 'b', null, false),
      run('r2', 'c', 0.68, true),
    ],
    'roc_auc',
  );
  assert.equal(f.latest.run_id, 'r2');
  assert.deepEqual(Object.keys(f.latest.candidates), ['a', 'b', 'c']);
  assert.deepEqual(f.latest.candidates.c, {
    roc_auc: 0.68,
    epochs: 3,
    duration_s: 1.5,
    rows_per_s: 1000,
    selected: true,
  });
  assert.deepEqual(f.best, { candidate: 'a', run_id: 'r1', roc_auc: 0.7 });
  // DVC shows scalars in nested objects and skips lists: everything but `runs` is objects of scalars.
  const scalarsOnly = (o: unknown): boolean =>
    o && typeof o === 'object' ? !Array.isArray(o) && Object.values(o).every(scalarsOnly) : true;
  const { runs, ...shown } = f;
  assert.equal(runs.length, 5);
  assert.ok(scalarsOnly(shown));
  assert.equal(
    experimentsFile(
      [
        run('r1', 'a', 0.3, true, 'log_loss'),
        run('r2', 'a', 0.2, true, 'log_loss'),
        run('r3', 'a', 0.25, true, 'log_loss'),
      ],
      'log_loss',
    ).best?.run_id,
    'r2',
    'lower is better for log loss',
  );
  // One log, several models: `best` is among the newest run's model and target only.
  const of = (r: ExperimentRun, model_name: string, target: string) => ({ ...r, model_name, target });
  const mixed = experimentsFile(
    [
      of(run('r1', 'a', 0.99, true), 'penguins', 'Species'),
      of(run('r2', 'a', 0.74, true), 'flight-delay', 'delay'),
      of(run('r3', 'a', 0.9, true), 'flight-delay', 'cancelled'),
      of(run('r4', 'a', 0.72, true), 'flight-delay', 'delay'),
    ],
    'roc_auc',
  );
  assert.deepEqual(mixed.best, { candidate: 'a', run_id: 'r2', roc_auc: 0.74 });
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
  assert.ok(bundle.meta.target_scaler && bundle.meta.threshold === undefined && bundle.meta.calibration === undefined);
  // The target's validate.schema range travels with the bundle: POST /feedback holds an actual to it.
  const rule = params.validate.schema[params.task.target];
  assert.deepEqual(bundle.meta.target_range, { min: rule.min, max: rule.max });
  // Residual quantiles from validation, ordered; evaluate reports how often their interval holds on test.
  const q = bundle.meta.residual_quantiles!;
  assert.ok(q.q5 <= q.q25 && q.q25 <= q.q50 && q.q50 <= q.q75 && q.q75 <= q.q95, JSON.stringify(q));
  assert.ok(
    saved.intervals.test_coverage >= 0 && saved.intervals.test_coverage <= 1 && saved.intervals.nominal === 0.9,
  );
  assert.ok(bundle.checkGolden().ok);
  bundle.dispose();
});

test('regression: recent_refit teaches the winner the validation rows after its held-out metrics were taken; classification ignores it', async () => {
  const regression = { type: 'regression' as const, positive_above: undefined };
  // One winner (no train.validation_blend), whose bundle records its own refit.
  const single = { validation_blend: 'off' as const };
  const off = await trainedRepo(regression, { ...single, recent_refit: { epochs: 0, learning_rate_factor: 0.1 } });
  const on = await trainedRepo(regression, { ...single, recent_refit: { epochs: 2, learning_rate_factor: 0.5 } });
  const tiny = await trainedRepo(regression, { ...single, recent_refit: { epochs: 2, learning_rate_factor: 1e-6 } });
  const { tf } = await selectBackend({});
  const [a, b, c] = [
    await loadBundle(tf, join(off.repo, MODEL_DIR)),
    await loadBundle(tf, join(on.repo, MODEL_DIR)),
    await loadBundle(tf, join(tiny.repo, MODEL_DIR)),
  ];
  try {
    assert.equal(a.meta.recent_refit, undefined);
    const validation = await readParquetTable(join(on.repo, PREPARED_DIR, 'validation.parquet'));
    assert.deepEqual(
      { ...b.meta.recent_refit!, seconds: 0 },
      { epochs: 2, learning_rate_factor: 0.5, rows: validation.length, seconds: 0 },
    );
    // Same selection and held-out validation metrics and residual quantiles (taken before the refit) ...
    assert.deepEqual(b.meta.metrics.validation, a.meta.metrics.validation);
    assert.deepEqual(b.meta.residual_quantiles, a.meta.residual_quantiles);
    // ... but different weights: the golden outputs are those of the refitted model, which the bundle reproduces ...
    const goldenShift = (x: typeof a) =>
      Math.max(...x.golden.map((g, i) => Math.abs(g.expected - a.golden[i].expected)));
    assert.ok(goldenShift(b) > 1e-3, `refit moved the golden outputs by ${goldenShift(b)}`);
    assert.ok(b.checkGolden().ok);
    // ... the learning-rate factor is applied (a millionth of the rate leaves them all but where they were) ...
    assert.ok(
      goldenShift(c) < goldenShift(b) / 100,
      `factor 1e-6 moved them by ${goldenShift(c)}, factor 0.5 by ${goldenShift(b)}`,
    );
    // ... and the drift reference of predictions is the served (refitted) model's on the validation rows.
    const served = b.predictTable(validation);
    const mean = served.reduce((s, v) => s + v, 0) / served.length;
    assert.ok(
      Math.abs(b.profile.predictions!.mean - mean) < 1e-3 * Math.max(1, Math.abs(mean)),
      `profile mean ${b.profile.predictions!.mean} vs served ${mean}`,
    );
    assert.notEqual(b.profile.predictions!.mean, a.profile.predictions!.mean);
  } finally {
    [a, b, c].forEach((x) => x.dispose());
  }
  const clsOff = await loadBundle(
    tf,
    join((await trainedRepo({}, { recent_refit: { epochs: 0, learning_rate_factor: 0.5 } })).repo, MODEL_DIR),
  );
  const clsOn = await loadBundle(
    tf,
    join((await trainedRepo({}, { recent_refit: { epochs: 2, learning_rate_factor: 0.5 } })).repo, MODEL_DIR),
  );
  try {
    assert.equal(clsOn.meta.recent_refit, undefined, 'classification keeps the model its calibration was fitted for');
    assert.deepEqual(
      clsOn.golden.map((g) => g.expected),
      clsOff.golden.map((g) => g.expected),
    );
  } finally {
    clsOff.dispose();
    clsOn.dispose();
  }
});

test('learning-rate schedule: constant keeps the rate, cosine anneals it from the full rate towards zero over max_epochs', () => {
  assert.equal(epochLearningRate(0.01, undefined, 5, 8), 0.01);
  assert.equal(epochLearningRate(0.01, 'constant', 8, 8), 0.01);
  assert.equal(epochLearningRate(0.01, 'cosine', 1, 8), 0.01);
  // 0.5·(1 + cos(π·4/8)) = 0.5; last epoch: 0.5·(1 + cos(7π/8)) = 0.0380602...
  assert.ok(Math.abs(epochLearningRate(0.01, 'cosine', 5, 8) - 0.005) < 1e-12);
  assert.ok(Math.abs(epochLearningRate(0.01, 'cosine', 8, 8) - 0.000380602337) < 1e-12);
  assert.equal(epochLearningRate(0.01, 'cosine', 1, 1), 0.01, 'one epoch: nothing to anneal');
});

test('lr_schedule reaches the optimizer: cosine trains epoch 1 like constant and epoch 2 at half the rate', async () => {
  const losses = async (lr_schedule: 'constant' | 'cosine') => {
    const { log } = await trainedRepo(
      {},
      { candidates: [{ name: 'mlp', model: 'mlp', hidden: [8], embedding_dim: 2, learning_rate: 0.05, lr_schedule }] },
    );
    return [1, 2].map((e) => Number(log.lines.join('\n').match(new RegExp(`mlp epoch ${e}/2: loss ([0-9.]+)`))?.[1]));
  };
  const [constant, cosine] = [await losses('constant'), await losses('cosine')];
  assert.ok(
    constant.every(Number.isFinite) && cosine.every(Number.isFinite),
    `epoch losses logged: ${constant.join(',')} / ${cosine.join(',')}`,
  );
  assert.equal(cosine[0], constant[0]);
  assert.notEqual(cosine[1], constant[1]);
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
  const c = expandCandidates([
    { name: 'mlp', model: 'mlp', grid: { hidden: [[8], [16, 8]], learning_rate: [0.1, 0.01] } },
  ]);
  assert.deepEqual(
    c.map((x) => x.name),
    [
      'mlp[hidden=8,learning_rate=0.1]',
      'mlp[hidden=8,learning_rate=0.01]',
      'mlp[hidden=16-8,learning_rate=0.1]',
      'mlp[hidden=16-8,learning_rate=0.01]',
    ],
  );
  assert.throws(
    () =>
      expandCandidates([
        { name: 'a', model: 'logistic' },
        { name: 'a', model: 'mlp' },
      ]),
    /two candidates are named a/,
  );
  assert.deepEqual(Array.from(permutation(10, seededRandom(1))), Array.from(permutation(10, seededRandom(1))));
  assert.notDeepEqual(Array.from(permutation(10, seededRandom(1))), Array.from(permutation(10, seededRandom(2))));
});

test('a malformed experiment log stops training before any work, naming the file and the field, and stays as it was', async () => {
  const repo = await tempRepo();
  await mkdir(join(repo, 'metrics'), { recursive: true });
  const bad = JSON.stringify({ runs: [{ run_id: 'r1', candidate: 7, model: 'mlp' }] });
  await writeFile(join(repo, EXPERIMENTS_FILE), bad);
  // No prepared data in this repo: the log's error (not a missing split) proves it is read first.
  await assert.rejects(train({ repoRoot: repo, params: await testParams(), log: quietLog() }), (err: Error) =>
    /^metrics\/experiments\.json: field `runs\.0\.candidate`: .*; fix it, or move it away to start a new experiment log/.test(
      err.message,
    ),
  );
  assert.equal(await readFile(join(repo, EXPERIMENTS_FILE), 'utf8'), bad);
  await rm(join(repo, EXPERIMENTS_FILE));
  assert.deepEqual(await readExperiments(repo), [], 'no log yet: no runs');
});

test('a bundle whose date column lost every part still accepts date (optional, unused) and refuses unknown fields', () => {
  const schema = {
    date: { type: 'timestamp', required: true },
    distance: { type: 'number', required: true, min: 1 },
    delay: { type: 'integer', required: true },
  } as unknown as InputSchema;
  const spec = {
    version: 1,
    features: [{ kind: 'numeric', name: 'distance', transform: 'log', mean: 6, std: 1, fill: 500, min: 30, max: 4000 }],
    dropped: [
      { feature: 'date.hour', reason: 'r' },
      { feature: 'date.day_of_week', reason: 'r' },
      { feature: 'route', reason: 'r' },
    ],
    target: { column: 'delay', type: 'classification', positive_above: 15 },
    time_column: 'date',
  } as FeatureSpec;
  const fields = inputSchemaOf(spec, schema);
  assert.deepEqual(Object.keys(fields), ['distance', 'date']);
  assert.equal(fields.date.required, false);
  assert.equal(schema.date.required, true, 'the params rule itself is not changed');
  const withDate = recordsToTable([{ date: '2001-05-01T08:00:00Z', distance: 700 }, { distance: 700 }], fields);
  assert.deepEqual(withDate.errors, [[], []]);
  const unknown = recordsToTable([{ distance: 700, weather: 'rain' }], fields);
  assert.match(JSON.stringify(unknown.errors), /weather/);
  // A part-dropped column that still has other parts is there once, as the params rule says.
  assert.equal(
    inputSchemaOf(
      { ...spec, features: [...spec.features, { kind: 'datetime', name: 'date', parts: ['hour'] }] },
      schema,
    ).date.required,
    true,
  );
});

test('train.max_rows / max_validation_rows bound what training reads; the bundle says how many rows of each split it saw', async () => {
  const { repo } = await trainedRepo({}, { max_rows: 150, max_validation_rows: 40 });
  const rowsOf = async (split: string) => (await readParquetTable(join(repo, PREPARED_DIR, `${split}.parquet`))).length;
  const [trainRows, validationRows, testRows] = await Promise.all(['train', 'validation', 'test'].map(rowsOf));
  assert.ok(
    trainRows > 150 && validationRows > 40,
    `the fixture's splits exceed the caps (${trainRows}, ${validationRows})`,
  );
  const { tf } = await selectBackend({});
  const bundle = await loadBundle(tf, join(repo, MODEL_DIR));
  try {
    assert.deepEqual(bundle.meta.rows, {
      train: 150,
      validation: 40,
      test: testRows,
      train_split: trainRows,
      validation_split: validationRows,
    });
    // The golden examples are still the test rows picked from the whole split, not from what train read.
    const test = await readParquetTable(join(repo, PREPARED_DIR, 'test.parquet'));
    const step = Math.floor(testRows / 5);
    assert.deepEqual(
      bundle.golden.map((g) => g.record.distance),
      [0, 1, 2, 3, 4].map((i) => (test.columns.distance as { values: Float64Array }).values[i * step]),
    );
    assert.ok(bundle.checkGolden().ok);
  } finally {
    bundle.dispose();
  }
  // The network candidates streamed every training row each epoch, not the 150 held (training/stream-epochs.ts).
  const runs = await readExperiments(repo);
  assert.deepEqual(
    runs.map((r) => [r.model, r.rows_train]),
    runs.map((r) => [r.model, trainRows]),
  );
});
