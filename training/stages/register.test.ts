import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { evaluate } from './evaluate.ts';
import { register, promotionGates, promotionPolicy } from './register.ts';
import { train, MODEL_DIR } from './train.ts';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import { loadBundle } from '../../core/model/bundle.ts';
import { openRegistry } from '../../core/registry/index.ts';
import { quietLog } from '../../harness/testing/training/fixtures.ts';
import { trainedRepo } from '../../harness/testing/training/pipeline.ts';
import { readMetrics } from '../../core/schemas/metrics-files.ts';
import { loadParams } from '../../core/schemas/params.ts';
import { noTrack, tempRepo } from '../../harness/testing/training/fixtures.ts';
import { ingest } from './ingest.ts';
import { validate } from './validate.ts';
import { prepare } from './prepare.ts';
import { incomparability } from '../comparable.ts';
import { preflightProblems } from '../preflight.ts';
import { stringify } from 'yaml';

test('first model is promoted; an unchanged bundle is not registered twice; a worse one waits in staging with the reason', async () => {
  const { repo, params } = await trainedRepo({}, { max_epochs: 3 });
  const registryUrl = join(repo, 'registry');
  const log = quietLog();
  await evaluate({ repoRoot: repo, params, log });
  const first = await register({ repoRoot: repo, params, log, registryUrl });
  assert.equal(first.decision, 'promoted');
  assert.equal(first.version, 1);
  assert.match(first.reason, /first production model/);
  assert.deepEqual(first.gto_tags, ['flight-delay@v1.0.0', 'flight-delay#production#1']);
  assert.deepEqual(first.stage_changes, { production: { from: null, to: 1 } }, 'what gh:tag checks GTO against');
  assert.deepEqual(
    (await register({ repoRoot: repo, params, log, registryUrl })).gto_tags,
    [],
    'nothing recorded, nothing to tag',
  );

  const again = await register({ repoRoot: repo, params, log, registryUrl });
  assert.equal(again.version, 1, 'same bundle → same version');

  // Another seed gives a different model; requiring +1.0 ROC-AUC makes sure it cannot be promoted.
  const strict = {
    ...params,
    train: { ...params.train!, seed: 7 },
    register: { ...params.register!, min_improvement: 1 },
  };
  await train({ repoRoot: repo, params: strict, log });
  await evaluate({ repoRoot: repo, params: strict, log });
  const second = await register({ repoRoot: repo, params: strict, log, registryUrl });
  assert.equal(second.version, 2);
  assert.equal(second.decision, 'staging');
  assert.equal(second.production_before!.version, 1);
  assert.equal(
    second.production_before!.metric,
    first.candidate_metric,
    'production is re-scored on the same test split',
  );
  assert.equal(second.production_before!.metrics.roc_auc, first.candidate_metric);
  assert.ok(Number.isFinite(second.production_before!.metrics.log_loss));
  assert.match(second.reason, /not promoted: roc_auc .* vs production v1 .*needs at least \+1/);
  assert.deepEqual(second.stage_changes, { staging: { from: null, to: 2 } });
  // The same data as production's: its drift comparison finds nothing.
  const drift = (await readMetrics('dataDrift', { repo: repo }))!;
  assert.equal(drift.status, 'ok');
  assert.equal(drift.production_version, 1);
  assert.deepEqual(drift.drifted_features, []);
  assert.ok(drift.features?.distance && drift.features.origin);

  // A failing gate (here: an impossible latency budget) rejects the candidate whatever its metric.
  const tight = {
    ...params,
    train: { ...params.train!, seed: 11 },
    register: { ...params.register!, min_improvement: 0, latency_budget_ms: 1e-6 },
  };
  await train({ repoRoot: repo, params: tight, log });
  await evaluate({ repoRoot: repo, params: tight, log });
  const third = await register({ repoRoot: repo, params: tight, log, registryUrl });
  assert.equal(third.decision, 'rejected');
  assert.match(third.reason, /gates failed: latency/);

  const registry = await openRegistry(registryUrl, {});
  assert.equal((await registry.getStage('flight-delay', 'production'))!.version, 1);
  assert.equal((await registry.getStage('flight-delay', 'staging'))!.version, 2);
  const history = await registry.history('flight-delay');
  assert.deepEqual(history.map((e) => e.type).slice(0, 4), ['register', 'promote', 'register', 'promote']);
  assert.ok(history.every((e) => e.reason && e.source === 'pipeline'));
});

test('gates: a failing gate blocks promotion whatever the metric', () => {
  const ev = {
    task: 'classification' as const,
    primary_metric: 'roc_auc' as const,
    test: { roc_auc: 0.7, log_loss: NaN },
    baseline: { roc_auc: 0.5 },
    edge_cases: { total: 10, failed: 1 },
    latency_ms: { p95: 30 },
    golden_examples: { reproduced: true },
    rows_test: 100,
  };
  const g = promotionGates(ev, 25);
  assert.equal(g.finite_metrics.passed, false);
  assert.match(g.finite_metrics.detail, /log_loss/);
  assert.equal(g.edge_cases.passed, false);
  assert.equal(g.latency.passed, false);
  assert.equal(g.golden_examples.passed, true);
  assert.equal(g.beats_baseline.passed, true);
});

/** Overwrite every weight with NaN: the model still loads, and every output is NaN. */
async function poisonWeights(bundleDir: string): Promise<void> {
  const path = join(bundleDir, 'weights.bin');
  const n = (await readFile(path)).byteLength / 4;
  await writeFile(path, Buffer.from(new Float32Array(n).fill(NaN).buffer));
}

test('a bundle with NaN weights, or with no golden examples, does not load and is never promoted', async () => {
  const { repo, params } = await trainedRepo({}, { max_epochs: 1 });
  const log = quietLog();
  await evaluate({ repoRoot: repo, params, log }); // evaluate.json says all is well; then the bundle goes bad
  const bundleDir = join(repo, MODEL_DIR);
  await poisonWeights(bundleDir);
  const { tf } = await selectBackend({});
  // Every weight is checked at load, not only what the golden examples reach.
  await assert.rejects(loadBundle(tf, bundleDir), /holds \d+ non-finite value\(s\)/);

  const registryUrl = join(repo, 'registry');
  const r = await register({ repoRoot: repo, params, log, registryUrl });
  assert.equal(r.decision, 'rejected');
  assert.equal(r.gates.golden_examples.passed, false);
  assert.match(r.reason, /golden_examples \(the bundle does not load: .*non-finite value/);
  assert.equal(r.gates.evaluation_matches.passed, false);
  const registry = await openRegistry(registryUrl, {});
  assert.equal(await registry.getStage('flight-delay', 'production'), null);
  assert.equal(await registry.getStage('flight-delay', 'staging'), null);

  // An empty golden set proves nothing: the bundle does not load.
  await writeFile(join(bundleDir, 'golden.json'), '[]\n');
  await assert.rejects(loadBundle(tf, bundleDir), /golden\.json: top level: has no examples/);
  const empty = await register({ repoRoot: repo, params, log, registryUrl });
  assert.equal(empty.decision, 'rejected');
  assert.match(empty.gates.golden_examples.detail, /does not load: .*golden\.json: top level: has no examples/);
  assert.equal(await registry.getStage('flight-delay', 'production'), null);
});

test('a stale metrics/evaluate.json (written for another bundle) does not promote the bundle', async () => {
  const { repo, params } = await trainedRepo({}, { max_epochs: 1 });
  const log = quietLog();
  await evaluate({ repoRoot: repo, params, log });
  await train({ repoRoot: repo, params: { ...params, train: { ...params.train!, seed: 5 } }, log }); // new bundle, old evaluation
  const r = await register({ repoRoot: repo, params, log, registryUrl: join(repo, 'registry') });
  assert.equal(r.decision, 'rejected');
  assert.match(r.gates.evaluation_matches.detail, /does not describe this bundle/);
});

test('retraining the same model (only created_at differs) registers nothing new', async () => {
  const { repo, params } = await trainedRepo({}, { max_epochs: 1 });
  const log = quietLog();
  const registryUrl = join(repo, 'registry');
  await evaluate({ repoRoot: repo, params, log });
  const first = await register({ repoRoot: repo, params, log, registryUrl });
  const before = await readFile(join(repo, MODEL_DIR, 'bundle.json'), 'utf8');
  await train({ repoRoot: repo, params, log, now: () => new Date('2030-01-01T00:00:00Z') });
  const after = await readFile(join(repo, MODEL_DIR, 'bundle.json'), 'utf8');
  assert.notEqual(after, before, 'the bundle bytes differ (created_at)');
  await evaluate({ repoRoot: repo, params, log });
  const again = await register({ repoRoot: repo, params, log, registryUrl });
  assert.equal(again.version, first.version);
  assert.deepEqual(again.gto_tags, []);
  const registry = await openRegistry(registryUrl, {});
  assert.equal((await registry.listVersions('flight-delay')).length, 1);
});

test('regression: register re-scores the bundle and agrees with evaluate.json (the gate does not reject good models)', async () => {
  const { repo, params } = await trainedRepo({ type: 'regression' }, { max_epochs: 1 });
  const log = quietLog();
  await evaluate({ repoRoot: repo, params, log });
  const r = await register({
    repoRoot: repo,
    params: { ...params, register: { ...params.register!, latency_budget_ms: 1e6 } },
    log,
    registryUrl: join(repo, 'registry'),
  });
  assert.equal(r.gates.evaluation_matches.passed, true, r.gates.evaluation_matches.detail);
  assert.equal(r.gates.golden_examples.passed, true);
  assert.match(r.gates.evaluation_matches.detail, /matches this bundle \(rmse \d/);
});

test('promotion policy: experiments never promote; only the train workflow or an explicit allow does', () => {
  assert.equal(promotionPolicy({ DVC_EXP_NAME: 'tidy-hobo', DVC_EXP_BASELINE_REV: 'abc' }).allowed, false);
  assert.match(
    promotionPolicy({ DVC_EXP_NAME: 'tidy-hobo' }).why,
    /dvc exp run \(experiment tidy-hobo\) never promotes/,
  );
  // Even the explicit flag and CI do not make an experiment promote.
  assert.equal(
    promotionPolicy({
      DVC_EXP_BASELINE_REV: 'abc',
      REGISTER_PROMOTE: 'allow',
      GITHUB_ACTIONS: 'true',
      TRAIN_BRANCH: 'model',
    }).allowed,
    false,
  );
  assert.equal(promotionPolicy({ GITHUB_ACTIONS: 'true', TRAIN_BRANCH: 'model' }).allowed, true);
  assert.equal(promotionPolicy({ GITHUB_ACTIONS: 'true' }).allowed, false, 'another workflow (no TRAIN_BRANCH)');
  assert.equal(promotionPolicy({}).allowed, false, 'a local pipeline');
  assert.equal(promotionPolicy({ REGISTER_PROMOTE: 'allow' }).allowed, true);
  assert.equal(promotionPolicy({ REGISTER_PROMOTE: 'allow' }).via, 'registry', 'npm start moves the registry at once');
  assert.equal(
    promotionPolicy({ GITHUB_ACTIONS: 'true', TRAIN_BRANCH: 'model' }).via,
    'tags',
    'CI leaves it to the tag',
  );
  assert.equal(promotionPolicy({ REGISTER_PROMOTE: 'tags' }).via, 'tags');
  assert.equal(
    promotionPolicy({ REGISTER_PROMOTE: 'never', GITHUB_ACTIONS: 'true', TRAIN_BRANCH: 'model' }).allowed,
    false,
  );
  assert.throws(
    () => promotionPolicy({ REGISTER_PROMOTE: 'yes' }),
    /REGISTER_PROMOTE must be allow, tags, never or auto, got "yes"/,
  );
});

/** A trained and evaluated repository, registered once under the promotion policy of `env`. */
async function registeredUnder(env: Record<string, string>, maxEpochs: number) {
  const { repo, params } = await trainedRepo({}, { max_epochs: maxEpochs });
  const registryUrl = join(repo, 'registry');
  const log = quietLog();
  await evaluate({ repoRoot: repo, params, log });
  const r = await register({ repoRoot: repo, params, log, registryUrl, promotion: promotionPolicy(env) });
  return { repo, params, registryUrl, log, r };
}

test('an experiment registers a candidate: no stage, no assignment tag, production untouched', async () => {
  const { repo, params, registryUrl, log, r } = await registeredUnder(
    { DVC_EXP_NAME: 'exp-1', DVC_EXP_BASELINE_REV: 'abc' },
    2,
  );
  assert.equal(r.decision, 'candidate');
  assert.match(
    r.reason,
    /would have gone to production: first production model.*dvc exp run \(experiment exp-1\) never promotes/,
  );
  assert.deepEqual(r.gto_tags, ['flight-delay@v1.0.0'], 'registered, not assigned');
  const registry = await openRegistry(registryUrl, { log });
  const state = await registry.state('flight-delay');
  assert.equal(state.stages.production ?? null, null, 'no production model from an experiment');
  const written = await readMetrics('register', { repo: repo });
  assert.equal(written?.decision, 'candidate');
  // The same bundle in the train workflow is then promoted (the candidate version is reused).
  const ci = await register({
    repoRoot: repo,
    params,
    log,
    registryUrl,
    promotion: promotionPolicy({ GITHUB_ACTIONS: 'true', TRAIN_BRANCH: 'model' }),
  });
  assert.equal(ci.decision, 'promoted');
  assert.equal(ci.version, 1);
  assert.deepEqual(ci.gto_tags, ['flight-delay#production#1']);
  // In the train workflow the tag is the record: the registry moves when gh:tag has pushed it and
  // registry sync-from-tags follows it, so the API never serves a production no tag names.
  assert.match(
    ci.reason,
    /the registry moves production to v1 once tag flight-delay#production#1 is pushed and registry sync-from-tags follows it/,
  );
  assert.equal((await registry.state('flight-delay')).stages.production ?? null, null);
  // Written without the null (dvc metrics show drops nulls), read back with it.
  assert.deepEqual((await readMetrics('register', { repo: repo }))?.stage_changes, {
    production: { from: null, to: 1 },
  });
});

test('the trainer Job (REGISTER_PROMOTE=tags) decides without moving the registry, and its reason names the way to its tag', async () => {
  const { registryUrl, log, r } = await registeredUnder({ REGISTER_PROMOTE: 'tags' }, 1);
  assert.equal(r.decision, 'promoted');
  assert.equal(
    (await (await openRegistry(registryUrl, { log })).state('flight-delay')).stages.production ?? null,
    null,
  );
  assert.match(r.reason, /not moved here: production moves once a GTO tag says so/);
  assert.match(r.reason, /registry -- import-run 1 writes the results it stored into a checkout to commit/);
  assert.doesNotMatch(r.reason, /once tag flight-delay#production#\d+ is pushed/, 'nothing will push that tag');
});

test('README order: production is a flights model, this run another dataset under the same name: refused with the fix, never scored', async () => {
  const flights = await trainedRepo({}, { max_epochs: 1 });
  const log = quietLog();
  const registryUrl = join(flights.repo, 'registry');
  await evaluate({ repoRoot: flights.repo, params: flights.params, log });
  assert.equal(
    (await register({ repoRoot: flights.repo, params: flights.params, log, registryUrl })).decision,
    'promoted',
  );

  // params.yaml pointed at the Seattle weather (docs/examples/seattle-rain), register.model_name left as it was.
  const repo = await tempRepo();
  const example = await loadParams(new URL('../../docs/examples/seattle-rain/params.yaml', import.meta.url).pathname);
  const params = {
    ...example,
    train: { ...example.train!, max_epochs: 2 },
    register: { ...example.register!, model_name: 'flight-delay' },
  };
  // npm start says so before any work (a local registry is looked at up front)…
  await writeFile(
    join(repo, 'params.yaml'),
    stringify({ ...params, register: { ...params.register, registry: registryUrl } }),
  );
  const up = await preflightProblems({ repoRoot: repo, against: 'source', registry: true, log });
  assert.deepEqual(
    up.problems.map((p) => [p.key, p.value]),
    [['register.model_name', 'flight-delay']],
  );
  assert.match(
    up.problems[0].message,
    /the production model flight-delay v1 is another model than this run's: it predicts delay > 15/,
  );
  // …and register refuses it if it runs anyway.
  await ingest({ repoRoot: repo, params, log, track: noTrack });
  await validate({ repoRoot: repo, params, log });
  await prepare({ repoRoot: repo, params, log });
  await train({ repoRoot: repo, params, log });
  await evaluate({ repoRoot: repo, params, log });
  await assert.rejects(register({ repoRoot: repo, params, log, registryUrl }), (err: Error) => {
    assert.doesNotMatch(err.message, /Cannot read properties/);
    assert.match(
      err.message,
      /^the production model flight-delay v1 is another model than this run's: it predicts delay > 15 \(classification\), this run precipitation > 0 \(classification\); its input columns distance, origin, destination are not in this run's data\./,
    );
    assert.match(
      err.message,
      /Set a new register\.model_name in params\.yaml .*then run `npm run pipeline` \(or `npm start`\) again/,
    );
    return true;
  });
  const registry = await openRegistry(registryUrl, {});
  assert.equal((await registry.listVersions('flight-delay')).length, 1, 'nothing registered under the old name');
  assert.equal((await registry.getStage('flight-delay', 'production'))!.version, 1);

  // The fix: a new name starts its own history; flight-delay keeps its production model.
  const renamed = { ...params, register: { ...params.register, model_name: 'seattle-rain' } };
  await train({ repoRoot: repo, params: renamed, log });
  await evaluate({ repoRoot: repo, params: renamed, log });
  const r = await register({ repoRoot: repo, params: renamed, log, registryUrl });
  assert.equal(r.decision, 'promoted');
  assert.match(r.reason, /first production model/);
  assert.equal((await registry.getStage('flight-delay', 'production'))!.version, 1);
});

test('a production model is comparable when it predicts the same target the same way from columns this run has', () => {
  const production = {
    task: 'classification' as const,
    target: { column: 'delay', positive_above: 15 },
    input_schema: { date: { type: 'timestamp' as const }, distance: { type: 'number' as const } },
  };
  const columns = { date: 'timestamp', distance: 'number', delay: 'number', origin: 'string' } as const;
  assert.deepEqual(incomparability(production, { ...production, columns }), [], 'more columns are fine');
  assert.deepEqual(
    incomparability(production, { task: 'classification', target: { column: 'delay', positive_above: 30 }, columns }),
    ['it predicts delay > 15 (classification), this run delay > 30 (classification)'],
  );
  assert.deepEqual(
    incomparability(production, {
      task: 'regression',
      target: { column: 'delay' },
      columns: { ...columns, distance: 'string' },
    }),
    [
      'it predicts delay > 15 (classification), this run delay (regression)',
      'its input columns distance (number there, string here) have another type',
    ],
  );
});

test('register compares a single model with a blend in production, and a blend with a single model in production, on the same test rows', async () => {
  const { repo, params } = await trainedRepo({}, { max_epochs: 2, blend: { max_rows: 100_000 } });
  const registryUrl = join(repo, 'registry');
  const log = quietLog();
  const meta = async () =>
    JSON.parse(await readFile(join(repo, MODEL_DIR, 'bundle.json'), 'utf8')) as { model_type: string };
  assert.equal((await meta()).model_type, 'blend');
  await evaluate({ repoRoot: repo, params, log });
  const blend = await register({ repoRoot: repo, params, log, registryUrl });
  assert.equal(blend.decision, 'promoted');

  const alone = { ...params, train: { ...params.train!, blend: undefined } };
  await train({ repoRoot: repo, params: alone, log });
  assert.notEqual((await meta()).model_type, 'blend');
  await evaluate({ repoRoot: repo, params: alone, log });
  const single = await register({ repoRoot: repo, params: alone, log, registryUrl });
  assert.equal(single.production_before!.version, blend.version);
  assert.equal(single.production_before!.metric, blend.candidate_metric, 'the blend in production re-scored');

  const registry = await openRegistry(registryUrl, {});
  await registry.setStage('flight-delay', 'production', single.version, { source: 'test', reason: 'single' });
  await train({ repoRoot: repo, params, log });
  await evaluate({ repoRoot: repo, params, log });
  const back = await register({ repoRoot: repo, params, log, registryUrl });
  assert.equal(back.production_before!.version, single.version);
  assert.equal(back.production_before!.metric, single.candidate_metric, 'the single model in production re-scored');
  assert.equal(back.candidate_metric, blend.candidate_metric, 'the same blend again');
});
