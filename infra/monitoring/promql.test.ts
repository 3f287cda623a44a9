import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { registryWithVersions, startTestServer } from '../../api/test-support.ts';
import { MONITORING_DIR } from './generate.ts';
import { checkPromql, exportedMetricNames, jsonExpressions } from './promql.ts';
import { ruleGroups } from './rules.ts';

/** Every expression in the committed rules and dashboards (the files Prometheus and Grafana load). */
async function allExpressions(): Promise<{ where: string; expr: string }[]> {
  const rules = parse(await readFile(join(MONITORING_DIR, 'prometheus/rules.yml'), 'utf8')) as { groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[] };
  const out = rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `rules.yml ${g.name}/${r.record ?? r.alert}`, expr: r.expr })));
  for (const name of ['service', 'model']) {
    const doc = JSON.parse(await readFile(join(MONITORING_DIR, `grafana/dashboards/${name}.json`), 'utf8'));
    out.push(...jsonExpressions(doc, `${name}.json`));
  }
  return out;
}

test('the checker itself reports parse errors and finds metric names', () => {
  assert.ok(checkPromql('sum(rate(foo_total[5m])').errors.length > 0);
  assert.ok(checkPromql('rate(foo_total{a="b"}[5m]) +').errors.length > 0);
  assert.deepEqual(checkPromql('sum by (le) (rate(a_bucket{job=~"$job"}[$__rate_interval])) / on() b:c:d offset 1m').metrics.sort(), ['a_bucket', 'b:c:d']);
});

test('every PromQL expression in rules and dashboards parses, and uses only metrics the API exports', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root);
  let exposition: string;
  try {
    exposition = await (await fetch(`${srv.url}/metrics`)).text();
  } finally {
    await srv.close();
  }
  const known = exportedMetricNames(exposition);
  assert.ok(known.has('http_request_duration_seconds_bucket') && known.has('model_live_quality'), 'the scrape lists the API metrics');
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
      if (!known.has(m)) problems.push(`${where}: metric ${m} is not exported by the API\n  ${expr}`);
    }
  }
  assert.deepEqual(problems, []);
  for (const m of ['model_info', 'model_swaps_total', 'model_age_seconds', 'model_drift_score', 'http_requests_in_flight', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
    assert.ok(used.has(m), `${m} is on a dashboard`);
  }
});
