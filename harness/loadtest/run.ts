/**
 * `npm run loadtest`: the seeds' stress test and the search for the maximum number of users,
 * against the real API on 127.0.0.1.
 *
 * 1. Scenario: LOADTEST_REQUESTS (50,000) single-record predictions over LOADTEST_CONNECTIONS (32)
 *    connections, stopped at LOADTEST_WINDOW_S (45 s). Passes when all of them answered 2xx in
 *    time with an error rate ≤ 0.1 %.
 * 2. Ramp: 1, 2, 4, … connections (LOADTEST_STEP_S = 5 s each, up to LOADTEST_RAMP_MAX = 1024,
 *    within LOADTEST_RAMP_BUDGET_S = 90 s) until p99 > LOADTEST_SLO_P99_MS (25) or errors > 0.1 %,
 *    then bisection; the largest level that held is "max users".
 *
 * Writes loadtest/report.md, loadtest/rps-latency.png and loadtest/ramp.png; prints the summary
 * as JSON on stdout (progress on stderr). Exit code 1 when the scenario fails. The API inherits the
 * environment (REGISTRY_URL, WORKERS, …), so `WORKERS=auto npm run loadtest` tests the multi-process mode.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { TopLevelSpec } from 'vega-lite';
import { renderVegaLite } from '../../core/charts/index.ts';
import { headline, runLoad, type LoadResult } from '../bench/api/load.ts';
import { checkRequest, fetchModelFacts, MODEL_NAME } from '../bench/api/model-info.ts';
import { REAL_API_SCRIPT, REPO_ROOT, startServer } from '../bench/api/server-process.ts';
import { explainFailure, envNumber, REAL_API_NAME } from '../bench/api/cli.ts';
import { defineCli } from '../../core/platform/cli.ts';
import { rampSpec, timelineSpec, type TimelinePoint } from './charts.ts';
import { composeReport, type LevelRow, type LoadtestSummary } from './report.ts';
import {
  DEFAULT_RAMP,
  DEFAULT_SCENARIO,
  levelOutcome,
  maxUsers,
  nextLevel,
  scenarioVerdict,
  type RampPolicy,
  type ScenarioPolicy,
} from './verdicts.ts';

const progress = (msg: string) => process.stderr.write(`[loadtest] ${msg}\n`);
const OUT_DIR = 'loadtest';
const PATH = '/predict';

const scenarioPolicy: ScenarioPolicy = {
  requests: Math.round(envNumber('LOADTEST_REQUESTS', DEFAULT_SCENARIO.requests)),
  windowS: envNumber('LOADTEST_WINDOW_S', DEFAULT_SCENARIO.windowS),
  maxErrorRate: DEFAULT_SCENARIO.maxErrorRate,
};
const scenarioConnections = Math.round(envNumber('LOADTEST_CONNECTIONS', 32));
const warmupS = envNumber('LOADTEST_WARMUP_S', 2);
const rampPolicy: RampPolicy = {
  ...DEFAULT_RAMP,
  sloP99Ms: envNumber('LOADTEST_SLO_P99_MS', DEFAULT_RAMP.sloP99Ms),
  max: Math.round(envNumber('LOADTEST_RAMP_MAX', DEFAULT_RAMP.max)),
};
const stepS = envNumber('LOADTEST_STEP_S', 5);
const rampBudgetS = envNumber('LOADTEST_RAMP_BUDGET_S', 90);

function autocannonVersion(): string {
  try {
    return (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
  } catch {
    return '?';
  }
}

const levelRow = (r: LoadResult): LevelRow => {
  const h = headline(r);
  return {
    connections: h.connections,
    duration_s: h.duration_s,
    requests: h.requests,
    rps: h.rps,
    p50_ms: h.p50_ms,
    p90_ms: h.p90_ms,
    p99_ms: h.p99_ms,
    max_ms: h.max_ms,
    non2xx: h.non2xx,
    errors: h.errors,
    error_rate: h.error_rate,
    outcome: levelOutcome(
      { connections: r.connections, responses: r.responses, p99_ms: r.latency.p99_ms, error_rate: r.error_rate },
      rampPolicy,
    ),
  };
};

async function main(): Promise<LoadtestSummary> {
  progress('starting the API');
  const server = await startServer({ name: REAL_API_NAME, script: REAL_API_SCRIPT });
  try {
    const facts = await fetchModelFacts(server.url);
    const body = JSON.stringify(facts.record);
    const probe = await checkRequest(server.url + PATH, body);
    if (probe.status !== 200) throw new Error(`POST ${PATH} answered ${probe.status}: ${probe.text.slice(0, 500)}`);
    progress(`model ${MODEL_NAME} v${facts.version ?? '?'} on backend ${facts.backend ?? '?'}; warm-up ${warmupS} s`);
    const load = { url: server.url, path: PATH, body };
    await runLoad({ ...load, connections: scenarioConnections, durationS: warmupS });

    const testStart = performance.now();
    const points: TimelinePoint[] = [];
    const timed = async (run: string, phase: TimelinePoint['phase'], go: () => Promise<LoadResult>) => {
      const offset = (performance.now() - testStart) / 1000;
      const r = await go();
      for (const s of r.timeline) points.push({ ...s, at_s: Math.round((offset + s.t) * 100) / 100, run, phase });
      return r;
    };

    progress(
      `scenario: ${scenarioPolicy.requests} requests over ${scenarioConnections} connections, stopped at ${scenarioPolicy.windowS} s`,
    );
    const scenarioRun = await timed('scenario', 'scenario', () =>
      runLoad({
        ...load,
        connections: scenarioConnections,
        amount: scenarioPolicy.requests,
        deadlineS: scenarioPolicy.windowS,
      }),
    );
    const verdict = scenarioVerdict(
      { ok: scenarioRun.ok, duration_s: scenarioRun.duration_s, error_rate: scenarioRun.error_rate },
      scenarioPolicy,
    );
    progress(
      `scenario: ${scenarioRun.ok} ok in ${scenarioRun.duration_s} s (${scenarioRun.rps} rps, p99 ${scenarioRun.latency.p99_ms} ms) → ${verdict.pass ? 'PASS' : 'FAIL'}`,
    );

    const rampStart = performance.now();
    const levels: LoadResult[] = [];
    let outOfTime = false;
    for (let c = nextLevel([], rampPolicy); c !== null; c = nextLevel(levels.map(toFigures), rampPolicy)) {
      if ((performance.now() - rampStart) / 1000 + stepS > rampBudgetS) {
        outOfTime = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 300));
      const connections = c;
      const r = await timed(`ramp ${connections}`, 'ramp', () =>
        runLoad({ ...load, connections, durationS: stepS, timeoutS: 5 }),
      );
      levels.push(r);
      progress(
        `ramp ${connections} connections: ${r.rps} rps, p99 ${r.latency.p99_ms} ms, error rate ${r.error_rate} → ${levelRow(r).outcome}`,
      );
    }
    const rows = levels.map(levelRow);
    const users = maxUsers(
      levels.map((l, i) => ({ ...toFigures(l), rps: rows[i].rps })),
      rampPolicy,
      outOfTime,
    );
    progress(`max users: ${users.max_users} (limited by ${users.limited_by})`);

    await mkdir(join(REPO_ROOT, OUT_DIR), { recursive: true });
    const charts = { rps_latency: `${OUT_DIR}/rps-latency.png`, ramp: `${OUT_DIR}/ramp.png` };
    const timelineChart = await renderVegaLite(timelineSpec(points, rampPolicy.sloP99Ms) as unknown as TopLevelSpec);
    await writeFile(join(REPO_ROOT, charts.rps_latency), timelineChart.png);
    const rampChart = await renderVegaLite(
      rampSpec(
        rows.map((r) => ({ ...r, held: r.outcome === 'held' })),
        rampPolicy.sloP99Ms,
      ) as unknown as TopLevelSpec,
    );
    await writeFile(join(REPO_ROOT, charts.ramp), rampChart.png);

    const summary: LoadtestSummary = {
      loadtest: 'api',
      generated_at: new Date().toISOString(),
      pass: verdict.pass,
      machine: {
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model ?? null,
        memory_gb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        platform: `${platform()} ${release()}`,
        backend: facts.backend,
        model: MODEL_NAME,
        model_version: facts.version,
        load_generator: `autocannon ${autocannonVersion()}, one process on the same machine`,
      },
      settings: {
        api_workers: process.env.WORKERS || '1',
        path: PATH,
        body: facts.record,
        scenario: { ...scenarioPolicy, connections: scenarioConnections, warmup_s: warmupS },
        ramp: { ...rampPolicy, step_s: stepS, budget_s: rampBudgetS },
      },
      scenario: {
        pass: verdict.pass,
        checks: verdict.checks,
        ...headlineWithoutCodes(scenarioRun),
        ok: scenarioRun.ok,
      },
      ramp: { ...users, levels: rows, duration_s: Math.round((performance.now() - rampStart) / 100) / 10 },
      charts,
      report: `${OUT_DIR}/report.md`,
    };
    await writeFile(join(REPO_ROOT, summary.report), composeReport(summary));
    return summary;
  } finally {
    await server.stop();
  }
}

function toFigures(r: LoadResult) {
  return { connections: r.connections, responses: r.responses, p99_ms: r.latency.p99_ms, error_rate: r.error_rate };
}

function headlineWithoutCodes(r: LoadResult) {
  const { status_codes: _codes, ...rest } = headline(r);
  return rest;
}

const USAGE = `usage: npm run loadtest
  the stress scenario (LOADTEST_REQUESTS single-record predictions over LOADTEST_CONNECTIONS) and the
  search for the maximum number of users (a ramp, then bisection) against the real API on 127.0.0.1;
  writes loadtest/report.md and its charts, prints the summary as JSON (progress on stderr)
env: LOADTEST_REQUESTS (50000), LOADTEST_CONNECTIONS (32), LOADTEST_WINDOW_S (45), LOADTEST_WARMUP_S (2),
  LOADTEST_STEP_S (5), LOADTEST_RAMP_MAX (1024), LOADTEST_RAMP_BUDGET_S (90), LOADTEST_SLO_P99_MS (25);
  the API inherits the environment (REGISTRY_URL, WORKERS, …)
exit: 0 the scenario passed, 1 it failed or the run failed, 2 usage error`;

await defineCli(
  {
    name: 'loadtest',
    usage: USAGE,
    // A failure can leave a load run or a server's pipes holding the event loop.
    forceExit: true,
  },
  async (_args, io) => {
    let summary: LoadtestSummary;
    try {
      summary = await main();
    } catch (err) {
      throw explainFailure(err);
    }
    io.stdout(JSON.stringify(summary, null, 2) + '\n');
    progress(`wrote ${summary.report}, ${summary.charts.rps_latency}, ${summary.charts.ramp}`);
    // The summary says which bound the scenario missed.
    return summary.pass ? 0 : 1;
  },
).main();
