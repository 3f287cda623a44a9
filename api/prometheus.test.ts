import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Counter, Histogram, Registry } from 'prom-client';
import { counterChild, createMetrics, histogramChild, scaleFreeBuckets } from './prometheus.ts';
import { RECORD, post, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

test(
  'metrics: every promised series is exported and `promtool check metrics` finds nothing',
  { skip: PROMTOOL ? false : 'promtool not installed (.ci/run installs Debian prometheus)' },
  async () => {
    const { url, root } = await registryWithVersions([1]);
    const srv = await startTestServer(url, root);
    try {
      await post(`${srv.url}/predict`, RECORD);
      await post(`${srv.url}/predict`, { ...RECORD, origin: 'QQQ' });
      await post(`${srv.url}/predict`, { ...RECORD, distance: 'x' });
      const text = await (await fetch(`${srv.url}/metrics`)).text();
      for (const name of [
        'http_requests_total',
        'http_request_duration_seconds_bucket',
        'http_requests_in_flight',
        'http_request_size_bytes_bucket',
        'model_predictions_total',
        'model_prediction_value_bucket',
        'model_inference_duration_seconds_bucket',
        'model_batch_size_bucket',
        'model_info',
        'model_age_seconds',
        'model_unknown_category_total',
        'model_rejected_fields_total',
        'process_cpu_seconds_total',
        'nodejs_eventloop_lag_seconds',
      ]) {
        assert.match(text, new RegExp(`^${name}`, 'm'), name);
      }
      const lint = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(lint.status, 0, lint.stdout + lint.stderr);
      assert.equal((lint.stdout + lint.stderr).trim(), '');
    } finally {
      await srv.close();
    }
  },
);

test('scrape-time gauges read the sources handed in at construction (served model, live quality)', async () => {
  let served: { name: string; createdAt: number } | null = null;
  let live: Record<string, number | null> | null = null;
  const metrics = createMetrics({ servedModel: () => served, liveQuality: () => live }, new Registry(), {
    defaultMetrics: false,
  });
  const scrape = async () =>
    (await metrics.registry.getSingleMetricAsString('model_age_seconds')) +
    '\n' +
    (await metrics.registry.getSingleMetricAsString('model_live_quality'));
  assert.doesNotMatch(await scrape(), /model_(age_seconds|live_quality)\{/, 'nothing served, no feedback: no series');
  served = { name: 'flight-delay', createdAt: Date.now() - 3_600_000 };
  live = { accuracy: 0.75, roc_auc: null, samples: 8 };
  const text = await scrape();
  const age = Number(/model_age_seconds\{model="flight-delay"\} ([0-9.]+)/.exec(text)?.[1]);
  assert.ok(age >= 3600 && age < 3700, `age ${age}`);
  assert.match(text, /model_live_quality\{model="flight-delay",metric="accuracy"\} 0\.75/);
  assert.match(text, /model_live_quality\{model="flight-delay",metric="samples"\} 8/);
  assert.doesNotMatch(text, /metric="roc_auc"/, 'an undefined metric is left out');
  live = null;
  assert.doesNotMatch(await scrape(), /model_live_quality\{/, 'live quality is recomputed at each scrape');
});

/** histogram_quantile's estimate: linear inside the bucket the rank falls in (the bucket below's bound as its start). */
function quantileFrom(bounds: number[], cumulative: number[], q: number): number {
  const rank = q * cumulative[cumulative.length - 1];
  const i = cumulative.findIndex((c) => c >= rank);
  const below = i === 0 ? 0 : cumulative[i - 1];
  const start = i === 0 ? Math.min(0, bounds[0]) : bounds[i - 1];
  return start + ((bounds[i] - start) * (rank - below)) / (cumulative[i] - below);
}

test('the value and error histograms resolve any scale and sign: their median is within 10 % for miles per gallon, prices and early arrivals', async () => {
  const metrics = createMetrics({ servedModel: () => null, liveQuality: () => null }, new Registry(), {
    defaultMetrics: false,
  });
  const cases: [string, (i: number) => number][] = [
    ['miles per gallon 10–46', (i) => 10 + (36 * i) / 999],
    ['prices 100,000–500,000', (i) => 100_000 + (400_000 * i) / 999],
    ['delay minutes −40 to −10', (i) => -40 + (30 * i) / 999],
  ];
  for (const [what, value] of cases) {
    metrics.predictionValue.reset();
    metrics.predictionError.reset();
    for (let i = 0; i < 1000; i++) {
      metrics.predictionValue.observe({ model: 'm' }, value(i));
      metrics.predictionError.observe({ model: 'm' }, value(i));
    }
    const truth = value(499.5);
    for (const h of [metrics.predictionValue, metrics.predictionError]) {
      const le = (v: { labels: object }) => (v.labels as { le?: string | number }).le;
      const got = (await h.get()).values.filter((v) => v.metricName?.endsWith('_bucket') && le(v) !== '+Inf');
      const bounds = got.map((v) => Number(le(v)));
      const median = quantileFrom(
        bounds,
        got.map((v) => v.value),
        0.5,
      );
      assert.ok(Math.abs(median - truth) <= 0.1 * Math.abs(truth), `${what}: median ${median} vs ${truth}`);
    }
  }
  const bounds = scaleFreeBuckets([0.05, 0.5, 0.95]);
  assert.deepEqual(
    bounds,
    [...bounds].sort((a, b) => a - b),
    'increasing',
  );
  assert.equal(new Set(bounds).size, bounds.length, 'no bound twice');
  assert.deepEqual(
    bounds.filter((b) => Math.abs(b) >= 1).map((b) => -b),
    bounds.filter((b) => Math.abs(b) >= 1).reverse(),
    'symmetric beyond ±1',
  );
  for (let i = 1; i < bounds.length; i++)
    if (bounds[i - 1] >= 1) assert.ok(bounds[i] / bounds[i - 1] <= 5 / 3 + 1e-9, `${bounds[i - 1]} → ${bounds[i]}`);
  assert.deepEqual([bounds[0], bounds.at(-1)], [-1e6, 1e6]);
});

test('histogramChild observes exactly as prom-client does: the same exposition, through a reset, the same refusal', async () => {
  const make = (buckets: number[]) => {
    const registry = new Registry();
    const h = new Histogram({
      name: 'x_seconds',
      help: 'x',
      labelNames: ['route', 'method'],
      buckets,
      registers: [registry],
    });
    return { registry, h };
  };
  const BUCKETS = [-2, 0, 0.005, 0.1, 1, 7];
  const ours = make(BUCKETS);
  const theirs = make(BUCKETS);
  const a = histogramChild(ours.h, { route: '/predict', method: 'POST' });
  const b = histogramChild(ours.h, { method: 'GET', route: '/x' });
  // Below every bound, on a bound, between, above every bound (+Inf only), negative zero.
  const values = [-5, -2, -0.5, -0, 0, 0.004, 0.005, 0.0051, 0.1, 0.99, 1, 6.999, 7, 7.0001, 1e9];
  const feed = (fast: boolean) =>
    values.forEach((v, i) => {
      if (fast) (i % 3 ? a : b).observe(v);
      else
        (i % 3
          ? theirs.h.labels({ route: '/predict', method: 'POST' })
          : theirs.h.labels({ method: 'GET', route: '/x' })
        ).observe(v);
    });
  feed(true);
  feed(false);
  assert.equal(await ours.registry.metrics(), await theirs.registry.metrics());
  assert.match(await ours.registry.metrics(), /x_seconds_bucket\{le="0.005",route="\/predict",method="POST"\} 4\n/);
  // After a reset the entries are gone: the next observation recreates them as prom-client does.
  ours.h.reset();
  theirs.h.reset();
  feed(true);
  feed(false);
  assert.equal(await ours.registry.metrics(), await theirs.registry.metrics());
  assert.throws(() => a.observe(NaN), /not a valid number/);

  // With a bound at −1 (model_prediction_value's scale-free buckets have one) prom-client 15 counts
  // a value above every bound in le="-1" (its "no bound" answer is −1 too); here it is in +Inf only.
  // The first observation, and the first after a reset, too.
  const minusOne = make([-1, 0, 1]);
  const c = histogramChild(minusOne.h, { route: 'r', method: 'm' });
  for (const round of [0, 1]) {
    if (round) minusOne.h.reset();
    for (const v of [5, -3, 2e6]) c.observe(v);
    const text = await minusOne.registry.metrics();
    assert.match(text, /le="-1",route="r",method="m"\} 1\n/, `round ${round}`);
    assert.match(text, /le="1",route="r",method="m"\} 1\n/);
    assert.match(text, /le="\+Inf",route="r",method="m"\} 3\n/);
  }
});

test('counterChild adds exactly as prom-client does: the same exposition, through a reset, the same refusals', async () => {
  const make = () => {
    const registry = new Registry();
    const c = new Counter({
      name: 'x_total',
      help: 'x',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    });
    return { registry, c };
  };
  const ours = make();
  const theirs = make();
  const a = counterChild(ours.c, { route: '/predict', method: 'POST', status: '200' });
  const b = counterChild(ours.c, { status: '400', method: 'POST', route: '/predict' });
  const steps = [1, 1, 3, 0, 2.5, 1];
  // The same label objects (in the same key order) as the children got: prom-client keeps them.
  const ok = { route: '/predict', method: 'POST', status: '200' };
  const bad = { status: '400', method: 'POST', route: '/predict' };
  const feed = (fast: boolean) =>
    steps.forEach((n, i) => {
      if (fast) (i % 2 ? a : b).inc(n);
      else theirs.c.labels(i % 2 ? ok : bad).inc(n);
    });
  feed(true);
  a.inc();
  feed(false);
  theirs.c.labels(ok).inc();
  assert.equal(await ours.registry.metrics(), await theirs.registry.metrics());
  assert.match(await ours.registry.metrics(), /x_total\{route="\/predict",method="POST",status="200"\} 3\n/);
  ours.c.reset();
  theirs.c.reset();
  feed(true);
  feed(false);
  assert.equal(await ours.registry.metrics(), await theirs.registry.metrics());
  assert.throws(() => a.inc(-1), /not possible to decrease/);
  assert.throws(() => a.inc(Infinity), /not a valid number/);
});

test('http_requests_in_flight is the count of requests being served when scraped', async () => {
  const m = createMetrics({ servedModel: () => null, liveQuality: () => null }, new Registry(), {
    defaultMetrics: false,
  });
  m.inFlight.count += 3;
  assert.match(await m.registry.metrics(), /^http_requests_in_flight 3$/m);
  m.inFlight.count -= 3;
  assert.match(await m.registry.metrics(), /^http_requests_in_flight 0$/m);
});
