import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { MONITORING_DIR } from './generate.ts';
import { DASHBOARD_LABEL, MANAGED_INTERVAL } from './k8s.ts';

const read = async (rel: string) => readFile(join(MONITORING_DIR, rel), 'utf8');

test('PrometheusRule wraps exactly the groups of prometheus/rules.yml and matches the values ruleSelector', async () => {
  const { groups } = parse(await read('prometheus/rules.yml'));
  const rule = parse(await read('k8s/prometheusrule.yaml'));
  assert.equal(rule.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(rule.kind, 'PrometheusRule');
  assert.deepEqual(rule.spec.groups, groups);
  const values = parse(await read('k8s/kube-prometheus-stack-values.yaml'));
  for (const [k, v] of Object.entries(values.prometheus.prometheusSpec.ruleSelector.matchLabels))
    assert.equal(rule.metadata.labels[k], v, `label ${k}`);
});

test('GKE managed Rules carry the same groups (plus the evaluation interval its CRD asks for)', async () => {
  const { groups } = parse(await read('prometheus/rules.yml'));
  const rules = parse(await read('k8s/managed-rules.yaml'));
  assert.equal(rules.apiVersion, 'monitoring.googleapis.com/v1');
  assert.equal(rules.kind, 'Rules');
  for (const g of rules.spec.groups) assert.equal(g.interval, MANAGED_INTERVAL);
  assert.deepEqual(
    rules.spec.groups.map(({ interval: _, ...g }: { interval: string }) => g),
    groups,
  );
});

test('dashboard ConfigMaps carry the sidecar label and the generated JSON; values route alerts like alertmanager.yml', async () => {
  const values = parse(await read('k8s/kube-prometheus-stack-values.yaml'));
  const sidecar = values.grafana.sidecar.dashboards;
  assert.equal(sidecar.enabled, true);
  const maps = parseAllDocuments(await read('k8s/grafana-dashboards.yaml')).map((d) => d.toJS());
  assert.equal(maps.length, 3);
  for (const name of ['service', 'model', 'pipeline']) {
    const cm = maps.find((m) => m.metadata.name === `gitops-ml-dashboard-${name}`);
    assert.ok(cm, name);
    assert.equal(cm.metadata.labels[sidecar.label], sidecar.labelValue);
    assert.deepEqual(Object.entries(DASHBOARD_LABEL), [[sidecar.label, sidecar.labelValue]]);
    assert.deepEqual(
      JSON.parse(Object.values(cm.data)[0] as string),
      JSON.parse(await read(`grafana/dashboards/${name}.json`)),
    );
  }
  assert.deepEqual(values.alertmanager.config, parse(await read('alertmanager/alertmanager.yml')));
});
