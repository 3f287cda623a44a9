import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PromAnswer } from './runner.ts';
import { FakeRunner } from './testing/fake-runner.ts';
import { parsePromResponse } from './runner.ts';
import { blueGreen, canary, rollbackBlueGreen, rolling, type DeployContext } from './strategies.ts';
import { runCli, wantsGoogleAuth } from './cli.ts';
import { gcloudAccessToken } from './runner.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const ctx = (runner: FakeRunner): DeployContext => ({
  runner,
  namespace: 'ns',
  model: 'flight-delay',
  rolloutTimeout: '5m',
});
const IMG = 'reg/flight-delay-api:v9';

function healthyApi(r: FakeRunner) {
  r.httpRules.push(
    [/GET .*\/readyz$/, { status: 200, json: { status: 'ready' } }],
    [
      /GET .*\/v1\/models\/flight-delay$/,
      {
        status: 200,
        json: {
          inputs: [
            { name: 'dep_hour', default: 13 },
            { name: 'carrier', default: 'AA' },
          ],
        },
      },
    ],
    [
      /POST .*:predict$/,
      { status: 200, json: { model_name: 'flight-delay', model_version: '7', predictions: [{ probability: 0.2 }] } },
    ],
  );
  return r;
}

// ------------------------------------------------------------ rolling

test('rolling: set image + rollout status succeed → deployed, no undo', async () => {
  const r = new FakeRunner();
  const res = await rolling(ctx(r), IMG);
  assert.equal(res.ok, true);
  assert.equal(res.outcome, 'deployed');
  assert.deepEqual(r.calls, [
    `kubectl -n ns set image deployment/flight-delay-api api=${IMG}`,
    'kubectl -n ns rollout status deployment/flight-delay-api --timeout=5m',
  ]);
});

test('rolling: failed rollout → rollout undo called, rolled-back with reason', async () => {
  const r = new FakeRunner().on(/rollout status/, { code: 1, stderr: 'progress deadline exceeded' });
  const res = await rolling(ctx(r), IMG);
  assert.equal(res.ok, false);
  assert.equal(res.outcome, 'rolled-back');
  assert.match(res.reason!, /progress deadline exceeded/);
  assert.deepEqual(r.kube(/rollout undo/), ['kubectl -n ns rollout undo deployment/flight-delay-api']);
});

// ------------------------------------------------------------ blue-green

const blueLive = () =>
  new FakeRunner().on(/get service flight-delay-api -o jsonpath=\{\.spec\.selector\.track\}/, { stdout: 'blue' });

test('blue-green: success → image on idle (green), smoke via port-forward to green, selector patched, blue untouched', async () => {
  const r = healthyApi(blueLive());
  const res = await blueGreen(ctx(r), IMG);
  assert.equal(res.ok, true, res.reason);
  assert.equal(res.outcome, 'switched');
  assert.equal(res.switchedFrom, 'blue');
  assert.equal(res.switchedTo, 'green');
  assert.equal(res.smoke?.modelVersion, '7');
  assert.deepEqual(r.kube(/set image/), [`kubectl -n ns set image deployment/flight-delay-api-green api=${IMG}`]);
  assert.ok(r.calls.includes('port-forward ns deployment/flight-delay-api-green 8080'));
  assert.equal(r.closed, 1, 'port-forward closed');
  // smoke predicts the model's own default record
  assert.ok(
    r.calls.includes('POST http://pf/v1/models/flight-delay:predict {"instances":[{"dep_hour":13,"carrier":"AA"}]}'),
  );
  assert.deepEqual(r.kube(/patch service/), [
    'kubectl -n ns patch service flight-delay-api --type merge -p {"spec":{"selector":{"track":"green"}}}',
  ]);
  // the old track keeps running: nothing scales, deletes or changes blue
  assert.deepEqual(r.kube(/flight-delay-api-blue|scale|delete/), []);
  // the switch happens only after rollout and smoke test
  const i = (re: RegExp) => r.calls.findIndex((c) => re.test(c));
  assert.ok(i(/rollout status deployment\/flight-delay-api-green/) < i(/:predict/));
  assert.ok(i(/:predict/) < i(/patch service/));
});

test('blue-green: green live → deploys to blue', async () => {
  const r = healthyApi(new FakeRunner().on(/get service/, { stdout: 'green' }));
  const res = await blueGreen(ctx(r), IMG);
  assert.deepEqual([res.switchedFrom, res.switchedTo], ['green', 'blue']);
  assert.equal(r.kube(/set image deployment\/flight-delay-api-blue /).length, 1);
});

test('blue-green: idle track fails readiness → aborted, no selector patch, no smoke test, live untouched', async () => {
  const r = healthyApi(
    blueLive().on(/rollout status deployment\/flight-delay-api-green/, { code: 1, stderr: 'timed out waiting' }),
  );
  const res = await blueGreen(ctx(r), IMG);
  assert.equal(res.ok, false);
  assert.equal(res.outcome, 'aborted');
  assert.match(res.reason!, /did not become ready.*timed out.*live track blue untouched/);
  assert.deepEqual(r.kube(/patch/), []);
  assert.deepEqual(r.kube(/flight-delay-api-blue/), []);
  assert.ok(!r.calls.some((c) => c.startsWith('port-forward') || c.includes(':predict')));
  assert.deepEqual(
    r.kube(/rollout undo/),
    ['kubectl -n ns rollout undo deployment/flight-delay-api-green'],
    'idle restored as rollback target',
  );
});

test('blue-green: smoke test fails (predict 500) → aborted, no selector patch', async () => {
  const r = blueLive();
  r.httpRules.push([/POST .*:predict$/, { status: 500, json: { error: 'boom' } }]);
  healthyApi(r);
  const res = await blueGreen(ctx(r), IMG);
  assert.equal(res.outcome, 'aborted');
  assert.match(res.reason!, /smoke test on green failed: predict answered 500/);
  assert.deepEqual(r.kube(/patch/), []);
  assert.deepEqual(r.kube(/flight-delay-api-blue/), []);
  assert.equal(r.closed, 1, 'port-forward closed on failure too');
});

test('blue-green: smoke answer without model_version → aborted; not ready → aborted', async () => {
  const r1 = blueLive();
  r1.httpRules.push([/POST .*:predict$/, { status: 200, json: { predictions: [{}] } }]);
  healthyApi(r1);
  const a = await blueGreen(ctx(r1), IMG);
  assert.match(a.reason!, /names no model_version/);
  assert.deepEqual(r1.kube(/patch/), []);

  const r2 = blueLive();
  r2.httpRules.push([/readyz/, { status: 503, json: {} }]);
  const b = await blueGreen({ ...ctx(r2), baseUrl: 'http://preview/' }, IMG);
  assert.match(b.reason!, /\/readyz answered 503/);
  assert.ok(r2.calls.includes('GET http://preview/readyz'), '--base-url replaces the port-forward');
  assert.ok(!r2.calls.some((c) => c.startsWith('port-forward')));
  assert.deepEqual(r2.kube(/patch/), []);
});

test('blue-green: Service not on a blue/green selector → aborted before any change', async () => {
  const r = new FakeRunner().on(/get service/, { stdout: '' });
  const res = await blueGreen(ctx(r), IMG);
  assert.equal(res.outcome, 'aborted');
  assert.deepEqual(r.calls.length, 1);
});

test('blue-green rollback: switches the selector back after checking the other track is ready', async () => {
  const r = new FakeRunner().on(/get service/, { stdout: 'green' });
  const res = await rollbackBlueGreen(ctx(r));
  assert.deepEqual([res.ok, res.switchedFrom, res.switchedTo], [true, 'green', 'blue']);
  assert.deepEqual(r.kube(/patch service/), [
    'kubectl -n ns patch service flight-delay-api --type merge -p {"spec":{"selector":{"track":"blue"}}}',
  ]);
  const bad = new FakeRunner().on(/get service/, { stdout: 'green' }).on(/rollout status/, { code: 1 });
  assert.equal((await rollbackBlueGreen(ctx(bad))).ok, false);
  assert.deepEqual(bad.kube(/patch/), []);
});

// ------------------------------------------------------------ canary

const OPTS = { windowMs: 90_000, intervalMs: 30_000, maxErrorRatio: 0.01, maxP99Ms: 500 };
function metrics(
  r: FakeRunner,
  errorRatio: (n: number) => number | null | PromAnswer,
  p99s: (n: number) => number | null | PromAnswer,
) {
  let e = 0;
  let p = 0;
  r.promAnswers = (expr) => (expr.includes('histogram_quantile') ? p99s(p++) : errorRatio(e++));
  return r;
}

test('canary: clean window → stable image set, rollout waited, canary scaled to 0, promoted', async () => {
  const r = metrics(
    new FakeRunner(),
    () => 0.001,
    () => 0.12,
  );
  const res = await canary(ctx(r), IMG, OPTS);
  assert.equal(res.ok, true, res.reason);
  assert.equal(res.outcome, 'promoted');
  assert.equal(res.checks!.length, 3);
  assert.equal(r.slept, 90_000);
  assert.deepEqual(r.kube(/./), [
    `kubectl -n ns set image deployment/flight-delay-api-canary api=${IMG}`,
    'kubectl -n ns scale deployment/flight-delay-api-canary --replicas=1',
    'kubectl -n ns rollout status deployment/flight-delay-api-canary --timeout=5m',
    `kubectl -n ns set image deployment/flight-delay-api api=${IMG}`,
    'kubectl -n ns rollout status deployment/flight-delay-api --timeout=5m',
    'kubectl -n ns scale deployment/flight-delay-api-canary --replicas=0',
  ]);
  // queries target the canary pods' prediction routes
  const q = r.calls.filter((c) => c.startsWith('promql'));
  assert.ok(
    q.every(
      (c) =>
        c.includes('track="canary"') &&
        c.includes('namespace="ns"') &&
        c.includes('route=~"/predict|/v1/models/flight-delay:predict"'),
    ),
  );
  assert.ok(q.some((c) => c.includes('status=~"5.."') && c.includes('http_requests_total')));
  assert.ok(q.some((c) => c.includes('histogram_quantile(0.99') && c.includes('http_request_duration_seconds_bucket')));
});

test('canary: error-rate breach mid-window → canary scaled to 0, stable untouched, reason given', async () => {
  const r = metrics(
    new FakeRunner(),
    (n) => (n === 1 ? 0.08 : 0),
    () => 0.1,
  );
  const res = await canary(ctx(r), IMG, OPTS);
  assert.equal(res.ok, false);
  assert.equal(res.outcome, 'rolled-back');
  assert.match(res.reason!, /error ratio 0\.0800 > 0\.01/);
  assert.equal(res.checks!.length, 2);
  assert.deepEqual(r.kube(/set image deployment\/flight-delay-api /), [], 'stable not promoted');
  assert.equal(r.kube(/scale deployment\/flight-delay-api-canary --replicas=0/).length, 1);
});

test('canary: p99 breach → rolled back with the latency in the reason', async () => {
  const r = metrics(
    new FakeRunner(),
    () => 0,
    () => 0.75,
  );
  const res = await canary(ctx(r), IMG, OPTS);
  assert.equal(res.outcome, 'rolled-back');
  assert.match(res.reason!, /p99 latency 750 ms > 500 ms/);
  assert.deepEqual(r.kube(/set image deployment\/flight-delay-api /), []);
  assert.equal(r.kube(/--replicas=0/).length, 1);
});

test('canary: no data in the whole window → explicit rollback verdict naming the cause and the option', async () => {
  const r = metrics(
    new FakeRunner(),
    () => null,
    () => null,
  );
  const res = await canary(ctx(r), IMG, OPTS);
  assert.equal(res.ok, false);
  assert.equal(res.outcome, 'rolled-back');
  assert.match(
    res.reason!,
    /no canary data in Prometheus during the whole 90000 ms window \(3 checks\).*track=canary in namespace ns.*--on-no-data promote/,
  );
  assert.equal(res.checks!.length, 3, 'waited the whole window before judging');
  assert.ok(res.checks!.every((c) => c.noData));
  assert.deepEqual(r.kube(/set image deployment\/flight-delay-api /), []);
  assert.equal(r.kube(/--replicas=0/).length, 1);
});

test('canary: no data with onNoData promote → promoted with a warning; the policy is explicit', async () => {
  const r = metrics(
    new FakeRunner(),
    () => null,
    () => null,
  );
  const res = await canary(ctx(r), IMG, { ...OPTS, onNoData: 'promote' });
  assert.equal(res.outcome, 'promoted');
  assert.match(String(res.warning), /no canary data.*promoted anyway \(--on-no-data promote\)/);
  assert.equal(r.kube(/set image deployment\/flight-delay-api /).length, 1);
});

test('canary: checks without data are skipped when others in the window have data; a breach still rolls back', async () => {
  const clean = metrics(
    new FakeRunner(),
    (n) => (n === 0 ? null : 0),
    (n) => (n === 0 ? null : 0.1),
  );
  const ok = await canary(ctx(clean), IMG, OPTS);
  assert.equal(ok.outcome, 'promoted');
  assert.deepEqual(
    ok.checks!.map((c) => Boolean(c.noData)),
    [true, false, false],
  );
  const breach = metrics(
    new FakeRunner(),
    (n) => (n === 0 ? null : 0.5),
    () => 0.1,
  );
  assert.equal((await canary(ctx(breach), IMG, OPTS)).outcome, 'rolled-back');
});

test('canary: a Prometheus error (refused, unreachable) rolls back at once with its message, never promotes', async () => {
  const r = metrics(
    new FakeRunner(),
    () => ({ kind: 'error', message: 'Prometheus refused the query (HTTP 401)' }),
    () => 0.1,
  );
  const res = await canary(ctx(r), IMG, OPTS);
  assert.equal(res.outcome, 'rolled-back');
  assert.match(res.reason!, /Prometheus query failed at 30000 ms, not judging the canary blind: .*HTTP 401/);
  assert.equal(res.checks!.length, 1);
  assert.deepEqual(r.kube(/set image deployment\/flight-delay-api /), []);
});

test('canary: canary never ready → rolled back before any metric query', async () => {
  const r = new FakeRunner().on(/rollout status deployment\/flight-delay-api-canary/, { code: 1, stderr: 'timed out' });
  const res = await canary(ctx(r), IMG, OPTS);
  assert.equal(res.outcome, 'rolled-back');
  assert.ok(!r.calls.some((c) => c.startsWith('promql')));
});

test('canary: clean window but stable rollout fails → stable undone, canary scaled down, not ok', async () => {
  const r = metrics(
    new FakeRunner(),
    () => 0,
    () => 0.1,
  ).on(/rollout status deployment\/flight-delay-api --/, { code: 1, stderr: 'deadline' });
  const res = await canary(ctx(r), IMG, OPTS);
  assert.equal(res.ok, false);
  assert.equal(res.outcome, 'rolled-back');
  assert.deepEqual(r.kube(/rollout undo/), ['kubectl -n ns rollout undo deployment/flight-delay-api']);
});

// ------------------------------------------------------------ Prometheus parsing, CLI

test('parsePromResponse: vector/scalar values; empty results and NaN are no-data; an error status is an error', () => {
  assert.deepEqual(
    parsePromResponse({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.25'] }] },
    }),
    { kind: 'value', value: 0.25 },
  );
  assert.deepEqual(parsePromResponse({ status: 'success', data: { resultType: 'scalar', result: [1, '3'] } }), {
    kind: 'value',
    value: 3,
  });
  assert.deepEqual(parsePromResponse({ status: 'success', data: { resultType: 'vector', result: [] } }), {
    kind: 'no-data',
  });
  assert.deepEqual(
    parsePromResponse({ status: 'success', data: { resultType: 'vector', result: [{ value: [1, 'NaN'] }] } }),
    { kind: 'no-data' },
  );
  assert.deepEqual(parsePromResponse({ status: 'error', error: 'bad' }), {
    kind: 'error',
    message: 'query failed: bad',
  });
});

test('cli: exit codes, usage errors, dry-run records mutations without running them', async () => {
  assert.equal((await runCli(['--strategy', 'rolling'], new FakeRunner())).code, 2);
  const usage = await runCli(['--strategy', 'nope', '--image', IMG], new FakeRunner());
  assert.deepEqual(usage, {
    code: 2,
    result: { ok: false, error: '--strategy must be rolling, blue-green or canary, got "nope"' },
  });
  assert.equal((await runCli(['--strategy', 'rolling', '--image', IMG], new FakeRunner())).code, 0);
  const failing = new FakeRunner().on(/rollout status/, { code: 1 });
  const out = await runCli(['--strategy', 'rolling', '--image', IMG, '--namespace', 'x'], failing);
  assert.equal(out.code, 1);
  assert.ok(failing.calls.includes('kubectl -n x rollout undo deployment/flight-delay-api'));

  const real = new FakeRunner().on(/get service/, { stdout: 'blue' });
  const dry = await runCli(['--strategy', 'blue-green', '--image', IMG, '--dry-run'], real);
  assert.equal(dry.code, 0);
  // Nothing was deployed: the outcome says so, and what the run would have done.
  const dryResult = dry.result as unknown as { outcome: string; would: string };
  assert.deepEqual([dryResult.outcome, dryResult.would], ['planned', 'switched']);
  assert.deepEqual(
    real.calls,
    ['kubectl -n flight-delay get service flight-delay-api -o jsonpath={.spec.selector.track}'],
    'only reads reach the real runner',
  );
  const planned = (dry.result as unknown as { planned: string[] }).planned;
  assert.ok(planned.some((p) => p.includes('set image deployment/flight-delay-api-green')));
  assert.ok(planned.some((p) => p.includes('patch service flight-delay-api')));
});

test("cli: --app, --container and --timeout (the workflow's APP, CONTAINER, ROLLOUT_TIMEOUT) reach every kubectl call", async () => {
  const r = new FakeRunner();
  const out = await runCli(
    [
      '--strategy',
      'rolling',
      '--image',
      IMG,
      '--namespace',
      'x',
      '--app',
      'my-app',
      '--container',
      'web',
      '--timeout',
      '7m',
    ],
    r,
  );
  assert.equal(out.code, 0);
  assert.deepEqual(r.calls, [
    `kubectl -n x set image deployment/my-app web=${IMG}`,
    'kubectl -n x rollout status deployment/my-app --timeout=7m',
  ]);
  const c = metrics(
    new FakeRunner(),
    () => 0,
    () => 0.1,
  );
  await runCli(
    ['--strategy', 'canary', '--image', IMG, '--app', 'my-app', '--container', 'web', '--window-ms', '30000'],
    c,
  );
  assert.ok(c.calls.includes(`kubectl -n flight-delay set image deployment/my-app-canary web=${IMG}`));
  assert.ok(c.calls.includes(`kubectl -n flight-delay set image deployment/my-app web=${IMG}`));
  const b = new FakeRunner().on(/get service my-app /, { stdout: 'blue' });
  await runCli(
    ['--strategy', 'blue-green', '--image', IMG, '--app', 'my-app', '--container', 'web', '--base-url', 'http://x'],
    b,
  );
  assert.ok(b.calls.includes(`kubectl -n flight-delay set image deployment/my-app-green web=${IMG}`));
  assert.equal(
    (await runCli(['--strategy', 'canary', '--image', IMG, '--on-no-data', 'maybe'], new FakeRunner())).code,
    2,
  );
});

test('Prometheus auth: Google token for monitoring.googleapis.com (auto) or when asked; none for a plain Prometheus', async () => {
  const gmp = 'https://monitoring.googleapis.com/v1/projects/p/location/global/prometheus';
  assert.equal(wantsGoogleAuth('auto', gmp), true);
  assert.equal(wantsGoogleAuth('auto', 'http://prometheus.monitoring:9090'), false);
  assert.equal(wantsGoogleAuth('auto', undefined), false);
  assert.equal(wantsGoogleAuth('google', 'http://127.0.0.1:9090'), true);
  assert.equal(wantsGoogleAuth('none', gmp), false);
  const seen: boolean[] = [];
  await runCli(
    ['--strategy', 'rolling', '--image', IMG],
    (o) => {
      seen.push(o.googleAuth);
      return new FakeRunner();
    },
    { PROMETHEUS_URL: gmp },
  );
  assert.deepEqual(seen, [true]);
  assert.equal(
    (await runCli(['--strategy', 'rolling', '--image', IMG, '--prometheus-auth', 'maybe'], new FakeRunner())).code,
    2,
  );
});

test('gcloudAccessToken: runs gcloud once per ttl, trims the token, explains a failure', async () => {
  const { writeFile, chmod } = await import('node:fs/promises');
  const dir = await tempDir('gcloud-');
  const gcloud = join(dir, 'gcloud');
  await writeFile(gcloud, `#!/bin/sh\necho run >> ${dir}/calls\necho "  tok-1  "\n`);
  await chmod(gcloud, 0o755);
  let now = 0;
  const token = gcloudAccessToken({ gcloud, ttlMs: 1000, now: () => now });
  assert.equal(await token(), 'tok-1');
  now = 999;
  await token();
  now = 1000;
  await token();
  const { readFileSync } = await import('node:fs');
  assert.equal(
    readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').length,
    2,
    'cached within the ttl, refreshed after',
  );
  await assert.rejects(
    gcloudAccessToken({ gcloud: '/bin/false' })(),
    /gcloud auth print-access-token failed \(exit 1\)/,
  );
});
