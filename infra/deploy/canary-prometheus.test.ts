/**
 * Canary analysis against the real Prometheus (Debian's binary, loopback only) behind a loopback
 * proxy shaped like Google Managed Prometheus: the query API under
 * /v1/projects/<project>/location/global/prometheus, refusing any request without the bearer token.
 * The token comes from `gcloud auth print-access-token` (a stub gcloud on this machine).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { FakeRunner } from './testing/fake-runner.ts';
import { gcloudAccessToken, queryPrometheus, realRunner } from './runner.ts';
import { canary, canaryQueries, type CanaryOptions } from './strategies.ts';
import { freePort } from '../../core/platform/free-port.ts';
import { listen, readBody, stopChild, tempDir, waitFor, type TestServer } from '../../harness/testing/lifecycle.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const skip = existsSync(PROMETHEUS) ? false : `${PROMETHEUS} is missing (apt-get install prometheus)`;
const TOKEN = 'ya29.test-access-token';
const PREFIX = '/v1/projects/acme-ml/location/global/prometheus';
const IMG = 'r/api@sha256:' + 'b'.repeat(64);
const OPTS: CanaryOptions = { windowMs: 2000, intervalMs: 1000, maxErrorRatio: 0.01, maxP99Ms: 500, rateWindow: '15s' };

/** The API's metrics as PodMonitoring would label them: healthy canary in flight-delay, failing one in bad-ns. */
function exporter(): Server {
  let n = 0;
  return createServer((_req, res) => {
    n += 50;
    const series = (ns: string, status: string, count: number) =>
      `http_requests_total{namespace="${ns}",track="canary",route="/predict",status="${status}"} ${count}`;
    const buckets = (ns: string) =>
      [
        ['0.05', 0.5],
        ['0.1', 1],
        ['+Inf', 1],
      ].map(
        ([le, f]) =>
          `http_request_duration_seconds_bucket{namespace="${ns}",track="canary",route="/predict",le="${le}"} ${Math.round(n * (f as number))}`,
      );
    res
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      .end(
        [
          '# TYPE http_requests_total counter',
          series('flight-delay', '200', n),
          series('bad-ns', '200', n),
          series('bad-ns', '500', n / 5),
          '# TYPE http_request_duration_seconds histogram',
          ...buckets('flight-delay'),
          ...buckets('bad-ns'),
          '',
        ].join('\n'),
      );
  });
}

/** Managed-Prometheus-shaped front: 401 without `Bearer TOKEN`, else the request minus the prefix to Prometheus. */
function proxy(upstream: string, seen: string[]): Server {
  return createServer((req, res) => {
    const forward = async () => {
      const body = await readBody(req);
      seen.push(req.headers.authorization ?? '(none)');
      if (req.headers.authorization !== `Bearer ${TOKEN}` || !req.url!.startsWith(PREFIX)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: {
              code: 401,
              message: 'Request is missing required authentication credential.',
              status: 'UNAUTHENTICATED',
            },
          }),
        );
        return;
      }
      try {
        const r = await fetch(`${upstream}${req.url!.slice(PREFIX.length)}`, {
          method: req.method,
          headers: { 'content-type': String(req.headers['content-type'] ?? '') },
          body: req.method === 'POST' ? body : undefined,
        });
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
      } catch (err) {
        res.writeHead(502).end(`upstream: ${(err as Error).message}`); // Prometheus still starting
      }
    };
    void forward();
  });
}

test(
  'canary analysis authenticates to a Managed-Prometheus-shaped endpoint with the gcloud token; refusal, no data and a breach each get their verdict',
  { skip, timeout: 60_000 },
  async () => {
    const dir = await tempDir('canary-prom-');
    const servers: TestServer[] = [];
    let prom: ChildProcess | undefined;
    try {
      const exp = await listen(exporter());
      servers.push(exp);
      const expPort = exp.port;
      const promPort = await freePort();
      await writeFile(
        join(dir, 'prometheus.yml'),
        `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: api\n    honor_labels: true\n    static_configs: [{ targets: ['127.0.0.1:${expPort}'] }]\n`,
      );
      prom = spawn(
        PROMETHEUS,
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
        ],
        { stdio: 'ignore' },
      );
      const seen: string[] = [];
      const front = await listen(proxy(`http://127.0.0.1:${promPort}`, seen));
      servers.push(front);
      const url = `${front.url}${PREFIX}`;

      // A stand-in for the runner's gcloud (after google-github-actions/auth it prints the WIF identity's token).
      const gcloud = join(dir, 'gcloud');
      await writeFile(
        gcloud,
        `#!/bin/sh\n[ "$1 $2" = "auth print-access-token" ] && echo ${TOKEN} && exit 0\nexit 3\n`,
      );
      await chmod(gcloud, 0o755);
      const token = gcloudAccessToken({ gcloud });
      const q = canaryQueries('flight-delay', 'flight-delay', OPTS.rateWindow);
      let lastAnswer: unknown;
      await waitFor(
        'canary data in Prometheus',
        async () => {
          lastAnswer = await queryPrometheus(url, q.p99Seconds, { token });
          return (lastAnswer as { kind: string }).kind === 'value' ? true : undefined;
        },
        { timeoutMs: 40_000, intervalMs: 500, output: () => `last answer: ${JSON.stringify(lastAnswer)}` },
      );

      const run = async (
        namespace: string,
        prometheusToken: (() => Promise<string>) | undefined,
        extra: Partial<CanaryOptions> = {},
      ) => {
        const r = new FakeRunner();
        const real = realRunner({ prometheusUrl: url, ...(prometheusToken ? { prometheusToken } : {}) });
        r.promQuery = (expr) => real.promQuery(expr);
        const res = await canary({ runner: r, namespace, model: 'flight-delay' }, IMG, { ...OPTS, ...extra });
        return { res, promoted: r.kube(/set image deployment\/flight-delay-api /).length === 1 };
      };

      seen.length = 0;
      const healthy = await run('flight-delay', token);
      assert.equal(healthy.res.outcome, 'promoted', healthy.res.reason);
      assert.ok(healthy.promoted);
      assert.ok(
        healthy.res.checks!.every((c) => c.errorRatio === 0 && c.p99Ms! > 0 && c.p99Ms! <= 100),
        JSON.stringify(healthy.res.checks),
      );
      assert.ok(seen.length >= 4 && seen.every((h) => h === `Bearer ${TOKEN}`), 'every query carried the token');

      const anonymous = await run('flight-delay', undefined);
      assert.equal(anonymous.res.outcome, 'rolled-back');
      assert.match(
        anonymous.res.reason!,
        /Prometheus query failed at 1000 ms.*HTTP 401, sent without a token.*roles\/monitoring\.viewer/,
      );
      assert.ok(!anonymous.promoted);

      const noToken = await run('flight-delay', gcloudAccessToken({ gcloud: '/bin/false' }));
      assert.match(noToken.res.reason!, /no access token for Prometheus: gcloud auth print-access-token failed/);

      const empty = await run('no-such-ns', token);
      assert.equal(empty.res.outcome, 'rolled-back');
      assert.match(
        empty.res.reason!,
        /no canary data in Prometheus during the whole 2000 ms window \(2 checks\).*namespace no-such-ns/,
      );
      const quiet = await run('no-such-ns', token, { onNoData: 'promote' });
      assert.equal(quiet.res.outcome, 'promoted');
      assert.match(String(quiet.res.warning), /promoted anyway/);

      const bad = await run('bad-ns', token);
      assert.equal(bad.res.outcome, 'rolled-back');
      assert.match(bad.res.reason!, /error ratio 0\.1[0-9]* > 0\.01/);
    } finally {
      if (prom) await stopChild(prom);
      await Promise.all(servers.map((s) => s.close()));
    }
  },
);
