/**
 * `npm run bench:api:profile`: where the API's CPU goes under load. The real API (as `npm start`
 * serves it, with API_TOKENS so auth is in the path), the same API without tokens (the per-request
 * difference says what auth costs, function by function) and the trivial Koa server each run under
 * `node --cpu-prof`, side by side, pinned to core 1 while wrk on core 0 sends 32 connections of
 * single-record `POST /predict` to each in turn, in interleaved slices (rounds.ts sliceOrder, as
 * bench:api does); only the samples of a server's own load slices count (start-up, warm-up, the
 * others' slices and shutdown left out). Prints the tables (concerns, top self-time functions) as Markdown on stderr and one JSON
 * document on stdout; the raw `.cpuprofile` files stay in PROFILE_DIR for Chrome DevTools.
 * PROFILE_INSTANCES=n (n > 1) sends `{"instances": [n records]}` to the KServe batch route instead
 * (with BENCH_CONNECTIONS=1 it is bench:api's sequential 100-instance batch).
 *
 * Settings (env): PROFILE_DURATION_S (10 per server), PROFILE_ROUNDS (6), PROFILE_WARMUP_S (3),
 * PROFILE_INTERVAL_US (250), PROFILE_DIR (a new temporary directory), BENCH_CONNECTIONS (32),
 * PROFILE_INSTANCES (1).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { envNumber, REAL_API_NAME, runServerBench } from './cli.ts';
import { processTreeCpuSeconds } from './cpu.ts';
import { fetchModelFacts } from './model-info.ts';
import {
  diffMarkdown,
  perRequestDiff,
  profileMarkdown,
  summarizeProfile,
  type CpuProfile,
  type TimeWindow,
} from './profile-summary.ts';
import { mergeLoadResults, type LoadResult } from './load.ts';
import { balancedRounds, sliceOrder } from './rounds.ts';
import {
  REAL_API_SCRIPT,
  TRIVIAL_SERVER_SCRIPT,
  startServer,
  type ServerHandle,
  type StartOptions,
} from './server-process.ts';
import { runWrk, wrkAvailable } from './wrk.ts';

const settings = {
  duration_s: envNumber('PROFILE_DURATION_S', 10),
  warmup_s: envNumber('PROFILE_WARMUP_S', 3),
  interval_us: Math.round(envNumber('PROFILE_INTERVAL_US', 250)),
  connections: envNumber('BENCH_CONNECTIONS', 32),
  instances: Math.round(envNumber('PROFILE_INSTANCES', 1)),
  rounds: Math.round(envNumber('PROFILE_ROUNDS', balancedRounds(3))),
};
const path = settings.instances > 1 ? '/v1/models/flight-delay:predict' : '/predict';
const bodyOf = (record: unknown) =>
  JSON.stringify(
    settings.instances > 1 ? { instances: Array.from({ length: settings.instances }, () => record) } : record,
  );
const progress = (msg: string) => process.stderr.write(`[bench:api:profile] ${msg}\n`);
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

interface Profiled {
  name: string;
  server: ServerHandle;
  request: { body: string; headers: Record<string, string> };
  windows: TimeWindow[];
  responses: number;
  cpuS: number | null;
  runs: LoadResult[];
}

const startProfiled = (options: StartOptions, dir: string) =>
  startServer({
    ...options,
    cpus: '1',
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir, `--cpu-prof-interval=${settings.interval_us}`],
  });

const loadOf = (p: Profiled, durationS: number) =>
  runWrk({ url: p.server.url, path, ...p.request, connections: settings.connections, durationS, cpus: '0' });

/** Stops the server (a clean exit is what makes node write the profile) and summarises its load windows. */
async function finish(p: Profiled, dir: string) {
  await p.server.stop();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && f.includes(`.${p.server.pid}.`));
  if (!file) throw new Error(`${p.name} wrote no .cpuprofile into ${dir} (pid ${p.server.pid})`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const run = mergeLoadResults(p.runs);
  return {
    file: join(dir, file),
    responses: p.responses,
    rps: run.rps,
    p50_ms: run.latency.p50_ms,
    p99_ms: run.latency.p99_ms,
    cpu_us_per_request: p.cpuS === null ? null : Math.round((p.cpuS / p.responses) * 1e7) / 10,
    summary: summarizeProfile(profile, { windows: p.windows, topN: 30 }),
    // Every function, for the per-request comparison of two servers (perRequestDiff).
    full: summarizeProfile(profile, { windows: p.windows, topN: Infinity }),
  };
}

async function main() {
  if (!wrkAvailable())
    throw new Error('wrk is not installed: apt-get install wrk (the profile needs a generator that is not Node)');
  const dir = process.env.PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'api-profile-'));
  const token = randomBytes(24).toString('hex');
  const loadStart = loadavg()[0];
  const headers = { authorization: `Bearer ${token}` };
  const started: ServerHandle[] = [];
  const start = async (options: StartOptions) => {
    const s = await startProfiled(options, dir);
    started.push(s);
    return s;
  };
  const profiled: Profiled[] = [];
  try {
    const base = { WORKERS: '1', LOG_LEVEL: 'info' };
    const secured = await start({
      name: `${REAL_API_NAME} with API_TOKENS`,
      script: REAL_API_SCRIPT,
      env: { ...base, API_TOKENS: token },
    });
    // The same code without API_TOKENS: the per-request difference is what auth costs.
    const open = await start({ name: REAL_API_NAME, script: REAL_API_SCRIPT, env: base });
    const trivial = await start({ name: 'trivial server', script: TRIVIAL_SERVER_SCRIPT });
    // The record the web UI pre-fills, from the model description (bench:api sends the same).
    const body = bodyOf((await fetchModelFacts(secured.url, headers)).record);
    const of = (name: string, server: ServerHandle, h: Record<string, string>): Profiled => ({
      name,
      server,
      request: { body, headers: h },
      windows: [],
      responses: 0,
      cpuS: 0,
      runs: [],
    });
    // The trivial server gets the token header too (it ignores it): the same request bytes, rounds.ts.
    profiled.push(of('API_TOKENS', secured, headers), of('no tokens', open, {}), of('trivial', trivial, headers));
    for (const p of profiled) {
      progress(`${p.server.name}: warm-up ${settings.warmup_s} s`);
      await loadOf(p, settings.warmup_s);
    }
    // Interleaved slices in a balanced order: a neighbour's load and what one server leaves behind
    // after its slice weigh on all three alike.
    const slice = settings.duration_s / settings.rounds;
    for (let round = 0; round < settings.rounds; round++)
      for (const at of sliceOrder(profiled.length, round)) {
        const p = profiled[at];
        const cpuBefore = processTreeCpuSeconds(p.server.pid);
        const fromUs = nowUs();
        const run = await loadOf(p, slice);
        p.windows.push({ fromUs, toUs: nowUs() });
        const cpuAfter = processTreeCpuSeconds(p.server.pid);
        p.cpuS = p.cpuS !== null && cpuBefore !== null && cpuAfter !== null ? p.cpuS + cpuAfter - cpuBefore : null;
        p.responses += run.responses;
        p.runs.push(run);
      }
    progress(`load: ${settings.rounds} rounds of ${slice} s per server done; stopping the servers for their profiles`);
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
  const [api, withoutTokens, trivial] = await Promise.all(profiled.map((p) => finish(p, dir)));
  const tokenCost = perRequestDiff(
    { summary: withoutTokens.full, requests: withoutTokens.responses },
    { summary: api.full, requests: api.responses },
  );
  progress(`\n${profileMarkdown(api.summary, trivial.summary)}\n`);
  progress(`\nwithout → with API_TOKENS, per request:\n${diffMarkdown(tokenCost, ['no tokens', 'API_TOKENS'])}\n`);
  const drop = ({ full: _full, ...rest }: typeof api) => rest;
  process.stdout.write(
    JSON.stringify(
      {
        benchmark: 'api-profile',
        settings,
        load_average: { start: loadStart, end: loadavg()[0] },
        api: drop(api),
        api_without_tokens: drop(withoutTokens),
        token_cost_per_request: tokenCost,
        trivial: drop(trivial),
      },
      null,
      2,
    ) + '\n',
  );
}

const USAGE = `usage: npm run bench:api:profile
  node --cpu-prof of the real API (auth on, monitoring on), of the same API without API_TOKENS and
  of the trivial Koa server under wrk load in interleaved slices (servers on core 1, wrk on core 0);
  prints where the CPU went: concerns and top self-time functions, and µs per request without vs
  with tokens, as Markdown on stderr, one JSON document on stdout; the .cpuprofile files are kept
env: PROFILE_DURATION_S (10 per server), PROFILE_ROUNDS (6; interleaved slices), PROFILE_WARMUP_S (3),
  PROFILE_INTERVAL_US (250), PROFILE_DIR (temporary), BENCH_CONNECTIONS (32), PROFILE_INSTANCES (1;
  n > 1: n-record batches to /v1/models/<name>:predict); the API reads REGISTRY_URL as usual`;

await runServerBench('bench:api:profile', USAGE, main);
