import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_RAMP,
  levelOutcome,
  maxUsers,
  nextLevel,
  scenarioVerdict,
  type LevelFigures,
  type RampPolicy,
} from './verdicts.ts';
import { composeReport, type LevelRow, type LoadtestSummary } from './report.ts';

test('scenario passes only with every request 2xx inside the window and few errors', () => {
  assert.equal(scenarioVerdict({ ok: 50_000, duration_s: 12.3, error_rate: 0 }).pass, true);
  const short = scenarioVerdict({ ok: 49_999, duration_s: 45, error_rate: 0 });
  assert.equal(short.pass, false);
  assert.equal(short.checks.successful_requests.pass, false);
  assert.equal(scenarioVerdict({ ok: 50_000, duration_s: 45.2, error_rate: 0 }).checks.duration_s.pass, false);
  assert.equal(scenarioVerdict({ ok: 50_000, duration_s: 30, error_rate: 0.0011 }).pass, false);
  assert.equal(
    scenarioVerdict({ ok: 50_000, duration_s: 30, error_rate: 0.001 }).pass,
    true,
    'the limit itself is allowed',
  );
});

test('a level fails on errors before latency, and with no responses at all', () => {
  const p = DEFAULT_RAMP;
  assert.equal(levelOutcome({ connections: 8, responses: 100, p99_ms: 25, error_rate: 0 }, p), 'held');
  assert.equal(levelOutcome({ connections: 8, responses: 100, p99_ms: 99, error_rate: 0.5 }, p), 'errors');
  assert.equal(levelOutcome({ connections: 8, responses: 100, p99_ms: 25.01, error_rate: 0 }, p), 'slo_p99');
  assert.equal(levelOutcome({ connections: 8, responses: 0, p99_ms: Number.NaN, error_rate: 0 }, p), 'no_responses');
});

/** Runs the ramp against a fake API whose p99 is a function of the connections. */
function simulate(p99: (c: number) => number, policy: RampPolicy = DEFAULT_RAMP) {
  const levels: (LevelFigures & { rps: number })[] = [];
  for (let c = nextLevel([], policy); c !== null; c = nextLevel(levels, policy)) {
    assert.ok(levels.length < 50, 'the ramp must end');
    levels.push({ connections: c, responses: 1000, p99_ms: p99(c), error_rate: 0, rps: c * 10 });
  }
  return { tried: levels.map((l) => l.connections), result: maxUsers(levels, policy) };
}

test('ramp doubles until the SLO breaks, then bisects twice', () => {
  const { tried, result } = simulate((c) => c / 4); // p99 = 25 ms at 100 connections
  assert.deepEqual(tried, [1, 2, 4, 8, 16, 32, 64, 128, 96, 112]);
  assert.deepEqual(result, {
    max_users: 96,
    rps_at_max: 960,
    p99_at_max_ms: 24,
    limited_by: 'slo_p99',
    first_failed: 112,
  });
});

test('ramp without refinement reports the last doubling that held', () => {
  const { tried, result } = simulate((c) => c / 4, { ...DEFAULT_RAMP, refineSteps: 0 });
  assert.deepEqual(tried, [1, 2, 4, 8, 16, 32, 64, 128]);
  assert.equal(result.max_users, 64);
});

test('ramp that never breaks stops at its maximum; one that breaks at once has no max users', () => {
  const easy = simulate(() => 1, { ...DEFAULT_RAMP, max: 100 });
  assert.deepEqual(easy.tried, [1, 2, 4, 8, 16, 32, 64, 100]);
  assert.equal(easy.result.max_users, 100);
  assert.equal(easy.result.limited_by, 'ramp_max');
  const hard = simulate(() => 100);
  assert.deepEqual(hard.tried, [1]);
  assert.equal(hard.result.max_users, 0);
  assert.equal(hard.result.first_failed, 1);
});

test('a noisy level that holds above a failure does not count; bisection stops at adjacent levels', () => {
  const levels = [
    { connections: 2, responses: 10, p99_ms: 5, error_rate: 0, rps: 20 },
    { connections: 4, responses: 10, p99_ms: 50, error_rate: 0, rps: 40 },
    { connections: 3, responses: 10, p99_ms: 5, error_rate: 0, rps: 30 },
  ];
  assert.equal(nextLevel(levels), null, 'no whole number between 3 and 4');
  assert.equal(maxUsers(levels).max_users, 3);
  const noisy = [...levels, { connections: 8, responses: 10, p99_ms: 5, error_rate: 0, rps: 80 }];
  assert.equal(maxUsers(noisy).max_users, 3, '8 held, but 4 already broke the SLO');
  assert.equal(maxUsers([levels[0]], DEFAULT_RAMP, true).limited_by, 'time_budget');
});

const row = (connections: number, p99: number, outcome: LevelRow['outcome']): LevelRow => ({
  connections,
  duration_s: 5,
  requests: connections * 500,
  rps: connections * 100,
  p50_ms: 1.5,
  p90_ms: 3,
  p99_ms: p99,
  max_ms: p99 * 2,
  non2xx: 0,
  errors: 0,
  error_rate: 0,
  outcome,
});

test('report markdown: scenario table, ramp table in order, max users, relative chart links, machine facts', () => {
  const summary: LoadtestSummary = {
    loadtest: 'api',
    generated_at: '2026-01-01T00:00:00.000Z',
    pass: true,
    machine: {
      cpus: 2,
      cpu_model: 'Test CPU',
      memory_gb: 8,
      node: 'v20.0.0',
      platform: 'linux',
      backend: 'wasm',
      model: 'flight-delay',
      model_version: 4,
      load_generator: 'autocannon 9',
    },
    settings: {
      api_workers: '1',
      path: '/predict',
      body: {},
      scenario: { requests: 50_000, windowS: 45, maxErrorRate: 0.001, connections: 32, warmup_s: 2 },
      ramp: { ...DEFAULT_RAMP, step_s: 5, budget_s: 90 },
    },
    scenario: {
      pass: true,
      checks: scenarioVerdict({ ok: 50_000, duration_s: 6.2, error_rate: 0 }).checks,
      connections: 32,
      duration_s: 6.2,
      requests: 50_000,
      ok: 50_000,
      rps: 8065,
      p50_ms: 3.1,
      p90_ms: 5,
      p99_ms: 9.87,
      max_ms: 40,
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      error_rate: 0,
    },
    ramp: {
      max_users: 64,
      rps_at_max: 6400,
      p99_at_max_ms: 20,
      limited_by: 'slo_p99',
      first_failed: 128,
      duration_s: 50,
      levels: [row(1, 2, 'held'), row(128, 40, 'slo_p99'), row(64, 20, 'held')],
    },
    charts: { rps_latency: 'loadtest/rps-latency.png', ramp: 'loadtest/ramp.png' },
    report: 'loadtest/report.md',
  };
  const md = composeReport(summary);
  assert.match(md, /## Stress scenario: 50,000 predictions within 45 s — \*\*PASS\*\*/);
  assert.match(md, /\| successful \(2xx\) predictions \| 50,000 \| ≥ 50,000 \| ✅ \|/);
  assert.match(md, /\| time to complete them \| 6\.2 s \| ≤ 45 s \| ✅ \|/);
  assert.match(md, /## Max users: \*\*64\*\* concurrent connections/);
  assert.match(md, /the p99 latency went over the SLO \(at 128 connections\)/);
  assert.match(md, /roughly 64,000 of them/);
  assert.match(md, /!\[Throughput and latency, second by second\]\(rps-latency\.png\)/);
  assert.match(md, /!\[[^\]]*\]\(ramp\.png\)/);
  assert.match(md, /\| CPUs \| 2 × Test CPU \|/);
  assert.match(md, /backend.*\| wasm \|/);
  assert.match(md, /\| API processes \(WORKERS\) \| 1 \|/);
  const rampRows = md.split('\n').filter((l) => /^\| \d+ \| [\d,]+ \|/.test(l));
  assert.deepEqual(
    rampRows.map((l) => l.split('|')[1].trim()),
    ['1', '64', '128'],
    'levels sorted by connections',
  );
  assert.match(rampRows[2], /❌ p99 over SLO/);
  const none = composeReport({
    ...summary,
    ramp: { ...summary.ramp, max_users: 0, rps_at_max: null, p99_at_max_ms: null },
  });
  assert.match(none, /## Max users: \*\*none\*\*/);
});
