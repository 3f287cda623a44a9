import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { RETRAIN_ALERTS, RETRAIN_WEBHOOK_URL } from './alertmanager.ts';
import { MONITORING_DIR } from './generate.ts';
import { PUSHGATEWAY_JOB } from './prometheus-config.ts';
import { ruleGroups, type AlertingRule } from './rules.ts';

const AMTOOL = '/usr/bin/amtool';
const CONFIG = join(MONITORING_DIR, 'alertmanager/alertmanager.yml');
const skip = existsSync(AMTOOL)
  ? false
  : 'skipped: /usr/bin/amtool is missing (apt-get install prometheus-alertmanager)';
const run = promisify(execFile);
const alerts = (): AlertingRule[] =>
  ruleGroups()
    .flatMap((g) => g.rules)
    .filter((r): r is AlertingRule => 'alert' in r);

test('amtool check-config accepts alertmanager.yml', { skip }, async () => {
  const { stdout } = await run(AMTOOL, ['check-config', CONFIG]);
  assert.match(stdout, /SUCCESS/);
  assert.match(stdout, /3 receivers/);
});

test(
  'amtool routes every alert of rules.yml: model alerts → retrain (+ severity), page → page, ticket → ticket',
  { skip },
  async () => {
    const retrain = new Set<string>(RETRAIN_ALERTS);
    const all = alerts();
    for (const name of RETRAIN_ALERTS)
      assert.ok(
        all.some((a) => a.alert === name),
        `${name} is an alert in rules.ts`,
      );
    for (const a of all) {
      const labels = Object.entries({
        alertname: a.alert,
        job: 'gitops-ml-api',
        model: 'flight-delay',
        ...a.labels,
      }).map(([k, v]) => `${k}=${v}`);
      const { stdout } = await run(AMTOOL, ['config', 'routes', 'test', `--config.file=${CONFIG}`, ...labels]);
      const receivers = stdout.trim().split(',').sort();
      const expected = [...(retrain.has(a.alert) ? ['retrain'] : []), a.labels.severity].sort();
      assert.deepEqual(receivers, expected, `${a.alert} (severity ${a.labels.severity})`);
    }
  },
);

test('the retrain receiver posts to the bridge webhook; page and ticket receivers exist', async () => {
  const doc = parse(await readFile(CONFIG, 'utf8')) as {
    receivers: { name: string; webhook_configs?: { url: string }[] }[];
  };
  assert.deepEqual(doc.receivers.map((r) => r.name).sort(), ['page', 'retrain', 'ticket']);
  assert.equal(doc.receivers.find((r) => r.name === 'retrain')?.webhook_configs?.[0]?.url, RETRAIN_WEBHOOK_URL);
});

test('prometheus.yml sends alerts to Alertmanager on 127.0.0.1:9093 and scrapes the Pushgateway with honor_labels', async () => {
  const doc = parse(await readFile(join(MONITORING_DIR, 'prometheus/prometheus.yml'), 'utf8'));
  assert.deepEqual(doc.alerting.alertmanagers[0].static_configs[0].targets, ['127.0.0.1:9093']);
  const push = doc.scrape_configs.find((s: { job_name: string }) => s.job_name === PUSHGATEWAY_JOB);
  assert.equal(push.honor_labels, true);
  assert.deepEqual(push.static_configs[0].targets, ['127.0.0.1:9091']);
});
