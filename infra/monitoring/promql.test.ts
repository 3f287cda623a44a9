import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { registryWithVersions, startTestServer } from '../../harness/testing/api/support.ts';
import { MONITORING_DIR } from './generate.ts';
import { checkPromql, exportedMetricNames, jsonExpressions } from './promql.ts';
import { ruleGroups } from './rules.ts';
import { pipelineExposition } from '../../training/pushgateway.ts';
import type { PipelineResult } from '../../training/pipeline/runner.ts';
import { metricsFixture, writeMetricsFixtureFile } from '../../harness/testing/core/metrics-fixtures.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

/** Every expression in the committed rules and dashboards (the files Prometheus and Grafana load). */
async function allExpressions(): Promise<{ where: string; expr: string }[]> {
  const rules = parse(await readFile(join(MONITORING_DIR, 'prometheus/rules.yml'), 'utf8')) as {
    groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
  };
  const out = rules.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `rules.yml ${g.name}/${r.record ?? r.alert}`, expr: r.expr })),
  );
  for (const name of ['service', 'model', 'pipeline']) {
    const doc = JSON.parse(await readFile(join(MONITORING_DIR, `grafana/dashboards/${name}.json`), 'utf8'));
    out.push(...jsonExpressions(doc, `${name}.json`));
  }
  return out;
}

/** The names training/pushgateway.ts pushes: its exposition for a fake run with every metrics/*.json present. */
async function pipelineMetricNames(): Promise<Set<string>> {
  const root = await tempDir('pipeline-metrics-');
  const metrics = join(root, 'metrics');
  for (const kind of ['validate', 'prepare', 'evaluate', 'register'] as const)
    await writeMetricsFixtureFile(metrics, kind, metricsFixture(kind));
  const result: PipelineResult = {
    ok: true,
    durationMs: 1500,
    stages: [
      { name: 'validate', status: 'ran', reasons: [], durationMs: 1000 },
      { name: 'train', status: 'skipped', reasons: [], durationMs: 0 },
    ],
  };
  return exportedMetricNames(await pipelineExposition(root, result, 1_700_000_000_000));
}

test('the checker itself reports parse errors and finds metric names', () => {
  assert.ok(checkPromql('sum(rate(foo_total[5m])').errors.length > 0);
  assert.ok(checkPromql('rate(foo_total{a="b"}[5m]) +').errors.length > 0);
  assert.deepEqual(
    checkPromql('sum by (le) (rate(a_bucket{job=~"$job"}[$__rate_interval])) / on() b:c:d offset 1m').metrics.sort(),
    ['a_bucket', 'b:c:d'],
  );
});

test('every PromQL expression in rules and dashboards parses, and uses only metrics the API or the pipeline push exports', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root);
  let exposition: string;
  try {
    exposition = await (await fetch(`${srv.url}/metrics`)).text();
  } finally {
    await srv.close();
  }
  const known = exportedMetricNames(exposition);
  assert.ok(
    known.has('http_request_duration_seconds_bucket') && known.has('model_live_quality'),
    'the scrape lists the API metrics',
  );
  const pipeline = await pipelineMetricNames();
  assert.ok(
    pipeline.size >= 9 && [...pipeline].every((n) => n.startsWith('pipeline_')),
    `pipeline exposition names: ${[...pipeline].join(', ')}`,
  );
  for (const n of pipeline) known.add(n);
  for (const g of ruleGroups()) for (const r of g.rules) if ('record' in r) known.add(r.record);
  known.add('up');

  const exprs = await allExpressions();
  assert.ok(exprs.length > 40, `found ${exprs.length} expressions`);
  const problems: string[] = [];
  const used = new Set<string>();
  for (const { where, expr } of exprs) {
    const { errors, metrics } = checkPromql(expr);
    for (const e of errors) problems.push(`${where}: ${e}\n  ${expr}`);
    for (const m of metrics) {
      used.add(m);
      if (!known.has(m))
        problems.push(`${where}: metric ${m} is exported neither by the API nor by the pipeline push\n  ${expr}`);
    }
  }
  assert.deepEqual(problems, []);
  for (const m of [
    'model_info',
    'model_swaps_total',
    'model_age_seconds',
    'fleet:model_drift_score',
    'fleet:model_live_quality',
    'model_drift_served_total',
    'model_feedback_score_bin_total',
    'http_requests_in_flight',
    'process_cpu_seconds_total',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.ok(used.has(m), `${m} is on a dashboard`);
  }
  for (const m of pipeline) assert.ok(used.has(m), `pipeline metric ${m} is on the pipeline dashboard`);
});

test('the name check stays strict: a pipeline_* name the push does not export is rejected', async () => {
  const pipeline = await pipelineMetricNames();
  assert.ok(pipeline.has('pipeline_stage_duration_seconds') && pipeline.has('pipeline_registered_version'));
  assert.ok(!pipeline.has('pipeline_stage_duration_seconds_bucket') && !pipeline.has('pipeline_made_up_total'));
  const { metrics } = checkPromql('sum by (stage) (pipeline_made_up_total{job="gitops_ml_pipeline"})');
  assert.deepEqual(
    metrics.filter((m) => !pipeline.has(m)),
    ['pipeline_made_up_total'],
  );
});
