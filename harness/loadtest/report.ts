/**
 * The load test's summary (printed as JSON) and the same facts as `loadtest/report.md`.
 * Pure: the summary is composed from measured figures, the markdown from the summary.
 */
import type { Check, LevelOutcome, MaxUsers, RampPolicy, ScenarioPolicy } from './verdicts.ts';

/** What one autocannon run measured, as both the scenario and every ramp level report it. */
export interface RunFigures {
  connections: number;
  duration_s: number;
  requests: number;
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  non2xx: number;
  errors: number;
  error_rate: number;
}

export interface LevelRow extends RunFigures {
  outcome: LevelOutcome;
}

export interface LoadtestSummary {
  loadtest: 'api';
  generated_at: string;
  pass: boolean;
  machine: {
    cpus: number;
    cpu_model: string | null;
    memory_gb: number;
    node: string;
    platform: string;
    backend: string | null;
    model: string;
    model_version: string | number | null;
    load_generator: string;
  };
  settings: {
    /** WORKERS the API ran with (one process per worker, `auto` = one per CPU). */
    api_workers: string;
    path: string;
    body: Record<string, unknown>;
    scenario: ScenarioPolicy & { connections: number; warmup_s: number };
    ramp: RampPolicy & { step_s: number; budget_s: number };
  };
  scenario: RunFigures & {
    pass: boolean;
    checks: Record<string, Check>;
    ok: number;
    timeouts: number;
  };
  ramp: MaxUsers & { levels: LevelRow[]; duration_s: number };
  charts: { rps_latency: string; ramp: string };
  report: string;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '–');
const pct = (rate: number) => `${(rate * 100).toFixed(rate === 0 ? 0 : 3)} %`;
const mark = (pass: boolean) => (pass ? '✅' : '❌');
const basename = (path: string) => path.split('/').pop() ?? path;

const OUTCOME_TEXT: Record<LevelOutcome, string> = {
  held: '✅ held',
  slo_p99: '❌ p99 over SLO',
  errors: '❌ errors over 0.1 %',
  no_responses: '❌ no responses',
};

const LIMIT_TEXT: Record<MaxUsers['limited_by'], string> = {
  slo_p99: 'the p99 latency went over the SLO',
  errors: 'the error rate went over the limit',
  no_responses: 'the API stopped answering',
  ramp_max: 'nothing broke: the ramp reached its highest level (raise LOADTEST_RAMP_MAX to look further)',
  time_budget: 'the ramp ran out of its time budget before anything broke (raise LOADTEST_RAMP_BUDGET_S)',
};

function scenarioSection(s: LoadtestSummary): string[] {
  const c = s.scenario.checks;
  const policy = s.settings.scenario;
  return [
    `## Stress scenario: ${int(policy.requests)} predictions within ${policy.windowS} s — **${s.scenario.pass ? 'PASS' : 'FAIL'}**`,
    '',
    `${s.scenario.connections} concurrent connections send \`POST ${s.settings.path}\` with one record each, back to back, after a ${policy.warmup_s} s warm-up.`,
    '',
    '| | measured | target | |',
    '|---|---:|---:|:---:|',
    `| successful (2xx) predictions | ${int(c.successful_requests.value)} | ≥ ${int(policy.requests)} | ${mark(c.successful_requests.pass)} |`,
    `| time to complete them | ${c.duration_s.value.toFixed(1)} s | ≤ ${policy.windowS} s | ${mark(c.duration_s.pass)} |`,
    `| error rate (non-2xx + connection errors) | ${pct(c.error_rate.value)} | ≤ ${pct(policy.maxErrorRate)} | ${mark(c.error_rate.pass)} |`,
    `| throughput | ${int(s.scenario.rps)} req/s | | |`,
    `| latency p50 / p90 / p99 / max | ${ms(s.scenario.p50_ms)} / ${ms(s.scenario.p90_ms)} / ${ms(s.scenario.p99_ms)} / ${ms(s.scenario.max_ms)} ms | | |`,
    `| non-2xx / connection errors / timeouts | ${int(s.scenario.non2xx)} / ${int(s.scenario.errors)} / ${int(s.scenario.timeouts)} | | |`,
    '',
  ];
}

function rampSection(s: LoadtestSummary): string[] {
  const r = s.ramp;
  const p = s.settings.ramp;
  const headline =
    r.max_users > 0
      ? `## Max users: **${int(r.max_users)}** concurrent connections within the SLO`
      : `## Max users: **none** — even ${p.start} connection(s) broke the SLO`;
  const lines = [
    headline,
    '',
    `The ramp doubles the concurrent connections from ${p.start} (up to ${p.max}), ${p.step_s} s per level, until a level breaks the SLO ` +
      `(p99 ≤ ${p.sloP99Ms} ms and error rate ≤ ${pct(p.maxErrorRate)}), then bisects up to ${p.refineSteps} times between the last level that held and the first that broke.`,
    '',
  ];
  if (r.max_users > 0 && r.rps_at_max !== null) {
    lines.push(
      `At ${int(r.max_users)} connections the API answered ${int(r.rps_at_max)} req/s with p99 ${ms(r.p99_at_max_ms ?? Number.NaN)} ms. ` +
        `Above it: ${LIMIT_TEXT[r.limited_by]}${r.first_failed === null ? '' : ` (at ${int(r.first_failed)} connections)`}.`,
      '',
      `A "user" here is a connection with no think time: it sends the next prediction as soon as the previous one is answered. ` +
        `People who each ask for one prediction every 10 s load the API about 10 × less each, so by Little's law the same ${int(r.rps_at_max)} req/s ` +
        `would serve roughly ${int(Number((r.rps_at_max * 10).toPrecision(2)))} of them, provided connections themselves are not the limit.`,
      '',
    );
  }
  lines.push(
    '| connections | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors | result |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const l of [...r.levels].sort((a, b) => a.connections - b.connections)) {
    lines.push(
      `| ${int(l.connections)} | ${int(l.rps)} | ${ms(l.p50_ms)} | ${ms(l.p90_ms)} | ${ms(l.p99_ms)} | ${ms(l.max_ms)} | ${int(l.non2xx)} | ${int(l.errors)} | ${OUTCOME_TEXT[l.outcome]} |`,
    );
  }
  lines.push('');
  return lines;
}

export function composeReport(s: LoadtestSummary): string {
  const m = s.machine;
  return [
    `# Load test: ${m.model} inference API`,
    '',
    `Generated ${s.generated_at} by \`npm run loadtest\`. Everything ran on 127.0.0.1.`,
    '',
    '| machine | |',
    '|---|---|',
    `| CPUs | ${m.cpus} × ${m.cpu_model ?? 'unknown'} |`,
    `| memory | ${m.memory_gb} GB |`,
    `| Node.js | ${m.node} (${m.platform}) |`,
    `| TensorFlow.js backend (from \`GET /v1/models/${m.model}\`) | ${m.backend ?? 'not reported'} |`,
    `| model version | ${m.model_version ?? 'not reported'} |`,
    `| API processes (WORKERS) | ${s.settings.api_workers} |`,
    `| load generator | ${m.load_generator} |`,
    '',
    ...scenarioSection(s),
    ...rampSection(s),
    '## Charts',
    '',
    `![Throughput and latency, second by second](${basename(s.charts.rps_latency)})`,
    '',
    `![Ramp: throughput and p99 per concurrency level](${basename(s.charts.ramp)})`,
    '',
    '## Reproduce',
    '',
    '```sh',
    'npm start          # trains and registers a production model, if the registry has none',
    'npm run loadtest   # LOADTEST_SLO_P99_MS, LOADTEST_CONNECTIONS, LOADTEST_REQUESTS, LOADTEST_WINDOW_S,',
    '                   # LOADTEST_STEP_S, LOADTEST_RAMP_MAX, LOADTEST_RAMP_BUDGET_S adjust it',
    '```',
    '',
    'The load generator shares the CPUs with the API, so on a small machine these figures are a floor for what the API does on its own cores.',
    '',
  ].join('\n');
}
