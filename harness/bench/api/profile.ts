/**
 * `npm run bench:api:profile`: where the API's CPU goes under load. The real API (as `npm start`
 * serves it, with API_TOKENS so auth is in the path) and the trivial Koa server each run under
 * `node --cpu-prof`, pinned to core 1 while wrk on core 0 sends 32 connections of single-record
 * `POST /predict`; only the samples of the measured load window count (start-up and shutdown left
 * out). Prints the tables (concerns, top self-time functions) as Markdown on stderr and one JSON
 * document on stdout; the raw `.cpuprofile` files stay in PROFILE_DIR for Chrome DevTools.
 * PROFILE_INSTANCES=n (n > 1) sends `{"instances": [n records]}` to the KServe batch route instead
 * (with BENCH_CONNECTIONS=1 it is bench:api's sequential 100-instance batch).
 *
 * Settings (env): PROFILE_DURATION_S (10), PROFILE_WARMUP_S (3), PROFILE_INTERVAL_US (250),
 * PROFILE_DIR (a new temporary directory), BENCH_CONNECTIONS (32), PROFILE_INSTANCES (1).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { envNumber, REAL_API_NAME, runServerBench } from './cli.ts';
import { processTreeCpuSeconds } from './cpu.ts';
import { fetchModelFacts } from './model-info.ts';
import { profileMarkdown, summarizeProfile, type CpuProfile } from './profile-summary.ts';
import { REAL_API_SCRIPT, TRIVIAL_SERVER_SCRIPT, startServer, type StartOptions } from './server-process.ts';
import { runWrk, wrkAvailable } from './wrk.ts';

const settings = {
  duration_s: envNumber('PROFILE_DURATION_S', 10),
  warmup_s: envNumber('PROFILE_WARMUP_S', 3),
  interval_us: Math.round(envNumber('PROFILE_INTERVAL_US', 250)),
  connections: envNumber('BENCH_CONNECTIONS', 32),
  instances: Math.round(envNumber('PROFILE_INSTANCES', 1)),
};
const path = settings.instances > 1 ? '/v1/models/flight-delay:predict' : '/predict';
const bodyOf = (record: unknown) =>
  JSON.stringify(
    settings.instances > 1 ? { instances: Array.from({ length: settings.instances }, () => record) } : record,
  );
const progress = (msg: string) => process.stderr.write(`[bench:api:profile] ${msg}\n`);
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

async function profileOne(
  options: StartOptions,
  dir: string,
  requestFor: (url: string) => Promise<{ body: string; headers: Record<string, string> }>,
) {
  const server = await startServer({
    ...options,
    cpus: '1',
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir, `--cpu-prof-interval=${settings.interval_us}`],
  });
  const request = await requestFor(server.url).catch(async (err: unknown) => {
    await server.stop();
    throw err;
  });
  const load = (durationS: number) =>
    runWrk({
      url: server.url,
      path,
      ...request,
      connections: settings.connections,
      durationS,
      cpus: '0',
    });
  let window: { fromUs: number; toUs: number };
  let run;
  let cpuS: number | null = null;
  try {
    progress(`${options.name}: warm-up ${settings.warmup_s} s, then ${settings.duration_s} s profiled`);
    await load(settings.warmup_s);
    const cpuBefore = processTreeCpuSeconds(server.pid);
    const fromUs = nowUs();
    run = await load(settings.duration_s);
    window = { fromUs, toUs: nowUs() };
    const cpuAfter = processTreeCpuSeconds(server.pid);
    if (cpuBefore !== null && cpuAfter !== null) cpuS = cpuAfter - cpuBefore;
  } finally {
    // A clean exit is what makes node write the profile.
    await server.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && f.includes(`.${server.pid}.`));
  if (!file) throw new Error(`${options.name} wrote no .cpuprofile into ${dir} (pid ${server.pid})`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const summary = summarizeProfile(profile, { window, topN: 30 });
  return {
    body: request.body,
    file: join(dir, file),
    window_us: window,
    rps: run.rps,
    p50_ms: run.latency.p50_ms,
    p99_ms: run.latency.p99_ms,
    cpu_us_per_request: cpuS === null ? null : Math.round((cpuS / run.responses) * 1e7) / 10,
    summary,
  };
}

async function main() {
  if (!wrkAvailable())
    throw new Error('wrk is not installed: apt-get install wrk (the profile needs a generator that is not Node)');
  const dir = process.env.PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'api-profile-'));
  const token = randomBytes(24).toString('hex');
  const loadStart = loadavg()[0];
  const headers = { authorization: `Bearer ${token}` };
  const api = await profileOne(
    {
      name: `${REAL_API_NAME} with API_TOKENS`,
      script: REAL_API_SCRIPT,
      env: { WORKERS: '1', LOG_LEVEL: 'info', API_TOKENS: token },
    },
    dir,
    // The record the web UI pre-fills, from the model description (bench:api sends the same).
    async (url) => ({ body: bodyOf((await fetchModelFacts(url, headers)).record), headers }),
  );
  // The same request bytes, token header included (the trivial server ignores it): rounds.ts.
  const trivial = await profileOne({ name: 'trivial server', script: TRIVIAL_SERVER_SCRIPT }, dir, () =>
    Promise.resolve({ body: api.body, headers }),
  );
  progress(`\n${profileMarkdown(api.summary, trivial.summary)}\n`);
  process.stdout.write(
    JSON.stringify(
      {
        benchmark: 'api-profile',
        settings,
        load_average: { start: loadStart, end: loadavg()[0] },
        api,
        trivial,
      },
      null,
      2,
    ) + '\n',
  );
}

const USAGE = `usage: npm run bench:api:profile
  node --cpu-prof of the real API (auth on, monitoring on) and of the trivial Koa server under wrk
  load (server on core 1, wrk on core 0); prints where the CPU went: concerns and top self-time
  functions as Markdown on stderr, one JSON document on stdout; the .cpuprofile files are kept
env: PROFILE_DURATION_S (10), PROFILE_WARMUP_S (3), PROFILE_INTERVAL_US (250), PROFILE_DIR (temporary),
  BENCH_CONNECTIONS (32), PROFILE_INSTANCES (1; n > 1: n-record batches to /v1/models/<name>:predict);
  the API reads REGISTRY_URL as usual`;

await runServerBench('bench:api:profile', USAGE, main);
