import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { evaluate } from './evaluate.ts';
import { register, promotionGates } from './register.ts';
import { train } from './train.ts';
import { openRegistry } from '../../core/registry/index.ts';
import { quietLog } from '../test-fixtures.ts';
import { trainedRepo } from '../test-pipeline.ts';

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
  assert.deepEqual((await register({ repoRoot: repo, params, log, registryUrl })).gto_tags, [], 'nothing recorded, nothing to tag');

  const again = await register({ repoRoot: repo, params, log, registryUrl });
  assert.equal(again.version, 1, 'same bundle → same version');

  // Another seed gives a different model; requiring +1.0 ROC-AUC makes sure it cannot be promoted.
  const strict = { ...params, train: { ...params.train!, seed: 7 }, register: { ...params.register!, min_improvement: 1 } };
  await train({ repoRoot: repo, params: strict, log });
  await evaluate({ repoRoot: repo, params: strict, log });
  const second = await register({ repoRoot: repo, params: strict, log, registryUrl });
  assert.equal(second.version, 2);
  assert.equal(second.decision, 'staging');
  assert.equal(second.production_before!.version, 1);
  assert.equal(second.production_before!.metric, first.candidate_metric, 'production is re-scored on the same test split');
  assert.equal(second.production_before!.metrics.roc_auc, first.candidate_metric);
  assert.ok(Number.isFinite(second.production_before!.metrics.log_loss));
  assert.match(second.reason, /not promoted: roc_auc .* vs production v1 .*needs at least \+1/);
  // The same data as production's: its drift comparison finds nothing.
  const drift = JSON.parse(await readFile(join(repo, 'metrics', 'drift.json'), 'utf8'));
  assert.equal(drift.status, 'ok');
  assert.equal(drift.production_version, 1);
  assert.deepEqual(drift.drifted_features, []);
  assert.ok(drift.features.distance && drift.features.origin);

  // A failing gate (here: an impossible latency budget) rejects the candidate whatever its metric.
  const tight = { ...params, train: { ...params.train!, seed: 11 }, register: { ...params.register!, min_improvement: 0, latency_budget_ms: 1e-6 } };
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
