/**
 * End to end: the real API (child process) scraped by real Prometheus (1 s scrape and evaluation)
 * loading the generated rules. Traffic → a recording rule has a series; a broken bundle promoted to
 * production and reloaded → the ModelLoadFailure alert fires in Prometheus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RECORD, registerTamperedBundle, registryWithVersions } from '../../harness/testing/api/support.ts';
import { MONITORING_DIR } from './generate.ts';
import { renderPrometheusConfig } from './prometheus-config.ts';
import { freePort } from '../../core/platform/free-port.ts';
import { post, removeTree, stopChild, waitFor, watchOutput } from '../../harness/testing/lifecycle.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const SERVER = fileURLToPath(new URL('../../api/server.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

function start(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: Record<string, string> },
): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, output: watchOutput(child).text };
}

const skip = existsSync(PROMETHEUS) ? false : `skipped: ${PROMETHEUS} is missing (apt-get install prometheus)`;

test(
  'API + Prometheus + generated rules: recording rules get series, a refused model raises ModelLoadFailure',
  { skip, timeout: 60_000 },
  async () => {
    const deadline = Date.now() + 55_000;
    const until = <T>(what: string, probe: () => Promise<T | undefined>, output: () => string) =>
      waitFor(what, probe, { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 250, output });
    const { url, root, registry } = await registryWithVersions([1]);
    // Version 2: a bundle whose golden outputs were tampered with; the API must refuse it.
    await registerTamperedBundle(registry, root);

    const [apiPort, promPort] = [await freePort(), await freePort()];
    const api = start(process.execPath, ['--import', TSX, SERVER], {
      cwd: root,
      env: {
        PORT: String(apiPort),
        HOST: '127.0.0.1',
        REGISTRY_URL: url,
        ADMIN_TOKEN,
        POLL_INTERVAL_MS: '600000',
        WORKERS: '1',
      },
    });
    let prom: ReturnType<typeof start> | undefined;
    try {
      const apiUrl = `http://127.0.0.1:${apiPort}`;
      await until('API readiness', async () => ((await fetch(`${apiUrl}/readyz`)).ok ? true : undefined), api.output);

      const promDir = join(root, 'prometheus');
      await mkdir(join(promDir, 'data'), { recursive: true });
      await writeFile(
        join(promDir, 'prometheus.yml'),
        renderPrometheusConfig({
          target: `127.0.0.1:${apiPort}`,
          scrapeInterval: '1s',
          evaluationInterval: '1s',
          ruleFiles: [join(MONITORING_DIR, 'prometheus/rules.yml')],
        }),
      );
      prom = start(
        PROMETHEUS,
        [
          `--config.file=${join(promDir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(promDir, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
        ],
        { cwd: promDir },
      );
      const promUrl = `http://127.0.0.1:${promPort}`;
      const output = () => prom!.output() + api.output();
      await until(
        'Prometheus readiness',
        async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined),
        output,
      );

      const query = async (q: string) => {
        const body = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
          status: string;
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        assert.equal(body.status, 'success');
        return body.data.result;
      };

      // Traffic: valid predictions (and a few invalid ones: 4xx, not errors for the SLO).
      const predict = (body: unknown) => post(`${apiUrl}/predict`, body);
      const traffic = setInterval(
        () => void Promise.all([predict(RECORD), predict(RECORD), predict({ distance: -1 })]).catch(() => {}),
        100,
      );
      try {
        await until(
          'the target up',
          async () => ((await query('up{job="gitops-ml-api"} == 1')).length ? true : undefined),
          output,
        );
        const availability = await until(
          'job:slo_availability_errors:ratio_rate5m',
          async () => {
            const r = await query('job:slo_availability_errors:ratio_rate5m');
            return r.length ? r : undefined;
          },
          output,
        );
        assert.equal(availability[0].metric.job, 'gitops-ml-api');
        assert.equal(availability[0].metric.slo, 'availability');
        assert.equal(Number(availability[0].value[1]), 0, 'no 5xx: error ratio 0 (4xx do not count)');
        const latency = await until(
          'job:slo_latency_errors:ratio_rate5m',
          async () => {
            const r = await query('job:slo_latency_errors:ratio_rate5m');
            return r.length ? r : undefined;
          },
          output,
        );
        assert.ok(Number(latency[0].value[1]) >= 0 && Number(latency[0].value[1]) <= 1);
      } finally {
        clearInterval(traffic);
      }

      // No alert yet; then promote the broken version and ask the API to reload.
      const alerts = async () =>
        (
          (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as {
            data: { alerts: { labels: Record<string, string>; annotations: Record<string, string>; state: string }[] };
          }
        ).data.alerts;
      assert.deepEqual(
        (await alerts()).filter((a) => a.labels.alertname === 'ModelLoadFailure'),
        [],
      );
      await registry.setStage('flight-delay', 'production', 2, { source: 'test', reason: 'e2e: broken bundle' });
      const reload = await fetch(`${apiUrl}/admin/reload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const reloaded = (await reload.json()) as { status: string };
      assert.equal(reloaded.status, 'refused');

      const alert = await until(
        'ModelLoadFailure firing',
        async () => (await alerts()).find((a) => a.labels.alertname === 'ModelLoadFailure' && a.state === 'firing'),
        output,
      );
      assert.equal(alert.labels.reason, 'golden_mismatch');
      assert.equal(alert.labels.model, 'flight-delay');
      assert.equal(alert.labels.severity, 'ticket');
      assert.match(
        alert.annotations.summary,
        /flight-delay version was refused at load \(golden_mismatch\)/,
        'annotation templates render',
      );
      // The API kept serving version 1 (the alert is about a refused rollout, not an outage).
      const still = await post(`${apiUrl}/predict`, RECORD);
      assert.equal(still.json.model_version, 1);
    } finally {
      if (prom) await stopChild(prom.child);
      await stopChild(api.child);
      await removeTree(root);
    }
  },
);
