/**
 * The multi-class and regression worked examples (docs/examples/seattle-weather, seattle-temperature)
 * through `npm run pipeline` in a
 * copy of the repository, on the real vega-datasets table: ingest, then every dvc.yaml stage
 * (few epochs, so it stays quick). Checks what a user of a multi-class model reads: the metrics
 * against both baselines, the confusion matrix in DVC's metrics and the report, the bundle's class
 * list and golden probabilities, and the registry's production model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { memoryLogger } from '../../core/platform/log.ts';
import { initDvcRepo } from '../../core/dvc/index.ts';
import { loadParams } from '../../core/schemas/params.ts';
import { pipelineArtifacts, PIPELINE_STAGES } from '../contracts/index.ts';
import { ingest } from '../stages/ingest.ts';
import { generatePipeline } from './generate.ts';
import { main } from './cli.ts';
import { batchDrift } from '../drift.ts';
import type { PredictionDrift } from '../drift-predictions.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Run docs/examples/<name> through ingest and `npm run pipeline` in a copy of the repository (few epochs unless told). */
async function runExample(
  name: string,
  maxEpochs: number | 'as_is' = 6,
): Promise<{
  root: string;
  params: Awaited<ReturnType<typeof loadParams>>;
  read: (path: string) => Promise<ReturnType<typeof JSON.parse>>;
}> {
  const root = await tempDir(`example-${name}-`);
  for (const dir of ['core', 'training'])
    await cp(join(REPO, dir), join(root, dir), { recursive: true, filter: (src) => !src.includes('node_modules') });
  for (const file of ['package.json', 'tsconfig.json']) await cp(join(REPO, file), join(root, file));
  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'));
  const example = await loadParams(join(REPO, `docs/examples/${name}/params.yaml`));
  const params = maxEpochs === 'as_is' ? example : { ...example, train: { ...example.train!, max_epochs: maxEpochs } };
  await writeFile(join(root, 'params.yaml'), stringify(params));
  await writeFile(
    join(root, 'dvc.yaml'),
    await generatePipeline(root, PIPELINE_STAGES, pipelineArtifacts(params.register!.model_name)),
  );
  await initDvcRepo(root);
  const log = memoryLogger();
  await ingest({ repoRoot: root, params, log });
  const before = process.env.REGISTER_PROMOTE;
  process.env.REGISTER_PROMOTE = 'allow';
  let out = '';
  try {
    const code = await main([], { cwd: root, log, write: (t) => (out += t) });
    assert.equal(code, 0, `${out}\n${log.lines.slice(-20).join('\n')}`);
  } finally {
    if (before === undefined) delete process.env.REGISTER_PROMOTE;
    else process.env.REGISTER_PROMOTE = before;
  }

  return { root, params, read: async (path: string) => JSON.parse(await readFile(join(root, path), 'utf8')) };
}

test('docs/examples/seattle-weather: a 5-class model trains, evaluates, registers and reports through npm run pipeline', async () => {
  const { root, read } = await runExample('seattle-weather');
  const ev = await read('metrics/evaluate.json');
  const classes = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
  assert.deepEqual(Object.keys(ev.classes), classes);
  assert.equal(ev.threshold, undefined, 'no binary threshold for a softmax model');
  assert.ok(
    ev.test.accuracy > ev.baseline.accuracy,
    `accuracy ${ev.test.accuracy} vs majority ${ev.baseline.accuracy}`,
  );
  assert.ok(ev.test.macro_f1 > ev.baseline.macro_f1, `macro-F1 ${ev.test.macro_f1} vs ${ev.baseline.macro_f1}`);
  assert.ok(ev.test.log_loss < ev.baseline.log_loss, `log loss ${ev.test.log_loss} vs prior ${ev.baseline.log_loss}`);
  assert.equal(ev.baseline_kinds.accuracy, 'majority_class');
  assert.equal(ev.baseline_kinds.log_loss, 'class_prior');
  const cells = Object.values(ev.test.confusion_matrix as Record<string, Record<string, number>>).flatMap(
    Object.values,
  );
  assert.equal(
    cells.reduce((s, n) => s + n, 0),
    ev.rows_test,
  );
  assert.equal((await read('metrics/plots/confusion.json')).length, ev.rows_test);
  const bundle = await read('artifacts/model/bundle.json');
  assert.deepEqual(bundle.classes, classes);
  // The example blends its candidates (train.blend): each member is temperature-scaled, the blend itself is not.
  assert.equal(bundle.model_type, 'blend');
  assert.equal(ev.calibration.method, 'per_member');
  for (const m of bundle.blend.members) assert.equal(m.calibration.method, 'temperature', m.candidate);
  const golden = await read('artifacts/model/golden.json');
  for (const g of golden) {
    assert.equal(g.probabilities.length, 5);
    assert.ok(Math.abs(g.probabilities.reduce((s: number, p: number) => s + p, 0) - 1) < 1e-5);
  }
  assert.equal((await read('metrics/register.json')).decision, 'promoted');
  const report = await readFile(join(root, 'metrics/report.md'), 'utf8');
  assert.match(report, /### Confusion matrix\n\n!\[Confusion matrix\]\(report\/confusion\.png\)/);
  assert.match(report, /\| macro_f1 \| [0-9.]+ \|/);
  assert.match(report, /Served probabilities are the mean of the blend members' temperature-scaled probabilities/);
  assert.match(report, /served their weighted mean \(.+\), validation log_loss [0-9.]+<\/summary>/);
  assert.ok(existsSync(join(root, 'metrics/report/confusion.png')));
});

test('docs/examples/seattle-temperature: a regression trains, beats its mean baseline and registers through npm run pipeline', async () => {
  const { read } = await runExample('seattle-temperature');
  const ev = await read('metrics/evaluate.json');
  assert.equal(ev.task, 'regression');
  assert.ok(ev.test.mae < ev.baseline.mae, `MAE ${ev.test.mae} vs baseline ${ev.baseline.mae}`);
  assert.ok(ev.test.rmse < ev.baseline.rmse, `RMSE ${ev.test.rmse} vs baseline ${ev.baseline.rmse}`);
  assert.equal((await read('metrics/register.json')).decision, 'promoted');
});

test('docs/examples/penguins: the served blend shows no prediction drift on the rows its drift reference came from', async () => {
  // As the example trains (its 344 rows take seconds): the networks fully fitted, as a user's are.
  const { root, params, read } = await runExample('penguins', 'as_is');
  const bundle = await read('artifacts/model/bundle.json');
  assert.equal(bundle.model_type, 'blend');
  // The validation split is in distribution by construction; its ~56 rows are below the default window.
  const drift = await batchDrift({
    reference: join(root, 'artifacts/model'),
    current: join(root, 'artifacts/prepared/validation.parquet'),
    out: join(root, 'drift-validation'),
    params: { ...params, drift: { ...params.drift!, min_window: 30 } },
    log: memoryLogger(),
  });
  assert.equal(drift.dataset_drift, false, JSON.stringify(drift.drifted_features));
  const p = drift.predictions as PredictionDrift;
  assert.deepEqual(
    Object.keys(p.tracks),
    ['Adelie', 'Chinstrap', 'Gentoo'].map((c) => `prediction.${c}`),
  );
  for (const [name, t] of Object.entries(p.tracks)) assert.equal(t.status, 'ok', name);
  assert.deepEqual(p.drifted_tracks, [], JSON.stringify(p.tracks));
});
