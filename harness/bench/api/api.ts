/**
 * `npm run bench:api`: throughput and latency of the real inference API beside a trivial Koa server
 * that does only the HTTP + JSON part (the ceiling on this machine), loaded with the same settings
 * in the same run; then a 100-instance batch request and the cost of bearer-token auth (the real
 * API started a second time with API_TOKENS). The servers run side by side and are loaded in
 * interleaved rounds (a balanced order: rounds.ts sliceOrder), so a noisy neighbour on a shared host weighs on all of them
 * alike instead of on whichever ran at that moment. Prints one JSON document on stdout, progress on
 * stderr.
 *
 * The load generator is wrk when installed (one C thread; `wrk.ts`), else autocannon. With two or
 * more cores the generator is pinned to core 0 and each one-process server to core 1, so the
 * server has a core of its own and is the bottleneck; server CPU per request is read from /proc
 * around every slice (Linux), and the generator's own CPU per request is reported beside it.
 * The real API runs as `npm start` serves it (monitoring, drift, feedback ids, metrics on, the
 * info-level log); the auth run adds API_TOKENS, and its ratios are taken against the trivial server
 * sent the same requests with the same token header (rounds.ts), so they measure the check, not the
 * header's bytes.
 *
 * Settings (env): BENCH_CONNECTIONS (32), BENCH_DURATION_S (15 per server), BENCH_ROUNDS (a
 * complete balanced square: 4 targets 4 rounds, 5 targets 10),
 * BENCH_WARMUP_S (3), BENCH_BATCH_REQUESTS (300), BENCH_GENERATOR (wrk | autocannon), BENCH_PIN
 * (on | off; on by default with ≥ 2 cores and taskset). The real API reads REGISTRY_URL as usual
 * and runs as one process (WORKERS=1), like the trivial server. BENCH_WORKERS=n (n > 1) also starts
 * the API with WORKERS=n (on every core, the generator's included) and loads it in the same rounds.
 * BENCH_BASELINE=<checkout> loads that checkout's API (with API_TOKENS) in the same rounds too.
 * BENCH_RECORDS=distinct sends 1,024 different records in turn instead of the model's example
 * record in every request, to every server alike: the pipeline's test split's first rows when this
 * checkout has one (artifacts/prepared/test.parquet), else records drawn from the model
 * description (model-info.ts distinctRecords); the batch's 100 instances are then the first 100.
 * `model_in_real`: the real API's model time per request, from its own /metrics over the rounds
 * (model-time.ts), and its CPU per request without it beside the trivial server's.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { envNumber, REAL_API_NAME, runServerBench } from './cli.ts';
import { processTreeCpuSeconds } from './cpu.ts';
import { composeBenchDocument } from './document.ts';
import { headline, mergeLoadResults, runLoad, type LoadOptions, type LoadResult } from './load.ts';
import { checkRequest, distinctRecords, fetchModelFacts, tableRecords } from './model-info.ts';
import { existsSync } from 'node:fs';
import { readParquetTable } from '../../../core/data/parquet.ts';
import { PREPARED_DIR } from '../../../training/contracts/paths.ts';
import { fetchModelTotals, modelShare } from './model-time.ts';
import {
  REAL_API_SCRIPT,
  TRIVIAL_SERVER_SCRIPT,
  startServer,
  type ServerHandle,
  type StartOptions,
} from './server-process.ts';
import { balancedRounds, planTargets, sliceOrder, type TargetLabel } from './rounds.ts';
import { median } from './stats.ts';
import { runWrk, wrkAvailable } from './wrk.ts';

const cores = cpus().length;
const generator = (process.env.BENCH_GENERATOR ?? (wrkAvailable() ? 'wrk' : 'autocannon')) as 'wrk' | 'autocannon';
const pinned =
  (process.env.BENCH_PIN ?? 'on') !== 'off' &&
  cores >= 2 &&
  spawnSync('taskset', ['-V'], { stdio: 'ignore' }).error === undefined;
/** Core 0 for the generator, core 1 for each one-process server. */
const PIN = pinned ? { generator: '0', server: '1' } : null;

const workers = Math.round(envNumber('BENCH_WORKERS', 1));
const records = process.env.BENCH_RECORDS ?? 'same';
/** How many different records BENCH_RECORDS=distinct sends in turn. */
const DISTINCT_RECORDS = 1024;
const baselineDir = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : null;
/** real, trivial, auth and trivial-auth, then the optional baseline and workers targets. */
const targetCount = 4 + (baselineDir ? 1 : 0) + (workers > 1 ? 1 : 0);
const settings = {
  connections: envNumber('BENCH_CONNECTIONS', 32),
  duration_s: envNumber('BENCH_DURATION_S', 15),
  // By default a complete balanced square: each target in each position, after each other one.
  rounds: Math.round(envNumber('BENCH_ROUNDS', balancedRounds(targetCount))),
  workers,
  warmup_s: envNumber('BENCH_WARMUP_S', 3),
  generator,
  baseline: baselineDir,
  pinning: PIN ? { generator_cpus: PIN.generator, server_cpus: PIN.server } : null,
  path: '/predict',
  records: (records === 'distinct' ? { distinct: DISTINCT_RECORDS, from: '' } : 'same') as
    'same' | { distinct: number; from: string },
  batch: {
    path: '/v1/models/flight-delay:predict',
    instances: 100,
    requests: envNumber('BENCH_BATCH_REQUESTS', 300),
    connections: 1,
  },
};
const progress = (msg: string) => process.stderr.write(`[bench:api] ${msg}\n`);
/** The trivial server is one process; so is the API it is compared with, whatever WORKERS says. */
const ONE_PROCESS = { WORKERS: '1' };
/** As `npm start` serves it: its log level is info (one summary line per 10 s). */
const AS_NPM_START = { ...ONE_PROCESS, LOG_LEVEL: 'info' };

/** One slice of load with the chosen generator; the generator's CPU seconds where it can tell. */
async function load(options: LoadOptions, durationS: number): Promise<LoadResult & { generator_cpu_s: number | null }> {
  if (generator === 'wrk') return runWrk({ ...options, durationS, ...(PIN ? { cpus: PIN.generator } : {}) });
  // autocannon runs inside this process: its CPU is this process's.
  const before = process.cpuUsage();
  const r = await runLoad({ ...options, durationS });
  const used = process.cpuUsage(before);
  return { ...r, generator_cpu_s: (used.user + used.system) / 1e6 };
}

/**
 * BENCH_RECORDS=distinct: the first rows of the pipeline's test split when this checkout has one
 * (real flights), else records drawn from the model description's ranges and lists.
 */
async function distinctBodies(info: unknown): Promise<Record<string, unknown>[]> {
  const split = join(PREPARED_DIR, 'test.parquet');
  if (existsSync(split)) {
    const rows = tableRecords(await readParquetTable(split, { rowEnd: 2 * DISTINCT_RECORDS }), info, DISTINCT_RECORDS);
    if (rows.length === DISTINCT_RECORDS) {
      progress(`distinct records: the first ${rows.length} complete rows of ${split}`);
      settings.records = { distinct: rows.length, from: split };
      return rows;
    }
  }
  progress(`distinct records: ${DISTINCT_RECORDS} drawn from the model's input ranges and categories (no ${split})`);
  settings.records = { distinct: DISTINCT_RECORDS, from: 'the model description (random)' };
  return distinctRecords(info, DISTINCT_RECORDS);
}

async function expectOk(server: ServerHandle, path: string, body: string, headers: Record<string, string> = {}) {
  const res = await checkRequest(server.url + path, body, headers);
  if (res.status < 200 || res.status >= 300)
    throw new Error(`${server.name}: POST ${path} answered ${res.status}: ${res.text.slice(0, 500)}`);
  return res;
}

const report = (label: string, r: LoadResult, cpuUs: number | null = null) =>
  progress(
    `${label}: ${r.rps} rps, p50 ${r.latency.p50_ms} ms, p99 ${r.latency.p99_ms} ms, non-2xx ${r.non2xx}, errors ${r.errors}` +
      (cpuUs === null ? '' : `, server CPU ${cpuUs} µs/request`),
  );

async function main() {
  if (generator !== 'wrk' && generator !== 'autocannon')
    throw new Error(`BENCH_GENERATOR=${String(generator)}: use wrk or autocannon`);
  if (records !== 'same' && records !== 'distinct')
    throw new Error(
      `BENCH_RECORDS=${records}: use same (one record, every request) or distinct (${DISTINCT_RECORDS} records in turn)`,
    );
  if (generator === 'wrk' && !wrkAvailable())
    throw new Error('BENCH_GENERATOR=wrk but wrk is not installed: apt-get install wrk, or BENCH_GENERATOR=autocannon');
  const servers: ServerHandle[] = [];
  const start = async (options: StartOptions) => {
    progress(`starting ${options.name}`);
    const s = await startServer(options);
    servers.push(s);
    return s;
  };
  const loadAtStart = loadavg()[0];
  try {
    const token = randomBytes(24).toString('hex');
    const auth = { authorization: `Bearer ${token}` };
    const core = PIN ? { cpus: PIN.server } : {};
    const real = await start({ name: REAL_API_NAME, script: REAL_API_SCRIPT, env: AS_NPM_START, ...core });
    const trivial = await start({ name: 'trivial server', script: TRIVIAL_SERVER_SCRIPT, ...core });
    const secured = await start({
      name: `${REAL_API_NAME} with API_TOKENS`,
      script: REAL_API_SCRIPT,
      env: { ...AS_NPM_START, API_TOKENS: token },
      ...core,
    });

    const multi =
      settings.workers > 1
        ? await start({
            name: `${REAL_API_NAME} with WORKERS=${settings.workers}`,
            script: REAL_API_SCRIPT,
            env: { LOG_LEVEL: 'info', WORKERS: String(settings.workers) },
          })
        : null;
    // Another checkout's API (e.g. the commit before a change), loaded in the same rounds: an A/B
    // that a shared host's load weighs on alike. Its own registry and params.yaml (cwd).
    const baseline = settings.baseline
      ? await start({
          name: `${REAL_API_NAME} of ${settings.baseline}`,
          script: join(settings.baseline, 'api/server.ts'),
          cwd: settings.baseline,
          env: { ...AS_NPM_START, API_TOKENS: token },
          ...core,
        })
      : null;
    const facts = await fetchModelFacts(real.url);
    const body = JSON.stringify(facts.record);
    const distinct = records === 'distinct' ? await distinctBodies(facts.info) : null;
    const bodies = distinct?.map((r) => JSON.stringify(r));
    const batchBody = JSON.stringify({
      instances: distinct
        ? distinct.slice(0, settings.batch.instances)
        : Array.from({ length: settings.batch.instances }, () => facts.record),
    });
    const answer = await expectOk(real, settings.path, body);
    await expectOk(real, settings.batch.path, batchBody);
    await expectOk(trivial, settings.path, body);
    const anonymous = await checkRequest(secured.url + settings.path, body);
    const enforced = anonymous.status === 401 || anonymous.status === 403;
    if (!enforced)
      progress(
        `warning: without a token the API answered ${anonymous.status}; API_TOKENS does not seem to enable auth`,
      );
    await expectOk(secured, settings.path, body, auth);
    progress(`model version ${facts.version ?? '?'}, backend ${facts.backend ?? '?'}, answer ${answer.bytes} bytes`);

    const serverOf: Record<TargetLabel, ServerHandle | null> = {
      real,
      trivial,
      auth: secured,
      'trivial-auth': trivial,
      baseline,
      workers: multi,
    };
    const targets = planTargets({
      path: settings.path,
      body,
      ...(bodies ? { bodies } : {}),
      connections: settings.connections,
      auth,
      urls: { real: real.url, trivial: trivial.url, auth: secured.url, baseline: baseline?.url, workers: multi?.url },
    }).map((t) => ({ ...t, server: serverOf[t.label]! }));
    for (const t of targets) {
      progress(`${t.label}: warm-up ${settings.warmup_s} s`);
      await load(t.load, settings.warmup_s);
    }
    const runs = new Map<string, LoadResult[]>(targets.map((t) => [t.label, []]));
    const cpu = new Map<string, { seconds: number; responses: number } | null>(
      targets.map((t) => [t.label, { seconds: 0, responses: 0 }]),
    );
    const generatorCpu = { seconds: 0, responses: 0, known: true };
    const sliceCpu = new Map<string, number[]>(targets.map((t) => [t.label, []]));
    const slice = settings.duration_s / settings.rounds;
    const modelBefore = await fetchModelTotals(real.url);
    let realResponses = 0;
    for (let round = 0; round < settings.rounds; round++) {
      for (const at of sliceOrder(targets.length, round)) {
        const t = targets[at];
        const before = processTreeCpuSeconds(t.server.pid);
        const r = await load(t.load, slice);
        const after = processTreeCpuSeconds(t.server.pid);
        const c = cpu.get(t.label);
        let sliceUs: number | null = null;
        if (c && before !== null && after !== null) {
          c.seconds += after - before;
          c.responses += r.responses;
          if (r.responses > 0) {
            sliceUs = Math.round(((after - before) / r.responses) * 1e7) / 10;
            sliceCpu.get(t.label)!.push(sliceUs);
          }
        } else cpu.set(t.label, null);
        if (r.generator_cpu_s === null || !Number.isFinite(r.generator_cpu_s)) generatorCpu.known = false;
        else {
          generatorCpu.seconds += r.generator_cpu_s;
          generatorCpu.responses += r.responses;
        }
        if (t.label === 'real') realResponses += r.responses;
        report(`round ${round + 1}/${settings.rounds} ${t.label}`, r, sliceUs);
        runs.get(t.label)!.push(r);
      }
    }
    const model = modelShare(modelBefore, await fetchModelTotals(real.url), realResponses);
    const merged = new Map(targets.map((t) => [t.label, mergeLoadResults(runs.get(t.label)!)]));
    const [realRun, trivialRun, authRun, trivialAuthRun] = (['real', 'trivial', 'auth', 'trivial-auth'] as const).map(
      (l) => merged.get(l)!,
    );
    const workersRun = merged.get('workers');
    const baselineRun = merged.get('baseline');
    const cpuUs = (label: string) => {
      const c = cpu.get(label);
      return c && c.responses > 0 ? Math.round((c.seconds / c.responses) * 1e7) / 10 : null;
    };

    progress(`batch100: ${settings.batch.requests} sequential requests of ${settings.batch.instances} instances`);
    const batchLoad: LoadOptions = { url: real.url, path: settings.batch.path, body: batchBody, connections: 1 };
    await runLoad({ ...batchLoad, amount: Math.min(50, settings.batch.requests), deadlineS: 30 });
    const batch100 = await runLoad({ ...batchLoad, amount: settings.batch.requests, deadlineS: 120 });
    report('batch100', batch100);
    // The baseline's batch too, right after (it runs with API_TOKENS: its header goes along).
    let baselineBatch100: LoadResult | null = null;
    if (baseline) {
      const load: LoadOptions = { ...batchLoad, url: baseline.url, headers: auth };
      await runLoad({ ...load, amount: Math.min(50, settings.batch.requests), deadlineS: 30 });
      baselineBatch100 = await runLoad({ ...load, amount: settings.batch.requests, deadlineS: 120 });
      report('baseline batch100', baselineBatch100);
    }

    const doc = composeBenchDocument({
      settings: { ...settings, body_bytes: Buffer.byteLength(body), batch_body_bytes: Buffer.byteLength(batchBody) },
      machine: {
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model ?? null,
        memory_gb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        backend: facts.backend,
        model_version: facts.version,
        load_average: { start: Math.round(loadAtStart * 100) / 100, end: Math.round(loadavg()[0] * 100) / 100 },
      },
      real: realRun,
      trivial: trivialRun,
      batch100,
      auth: { result: authRun, reference: trivialAuthRun, enforced, unauthenticatedStatus: anonymous.status },
      cpuUsPerRequest: {
        real: cpuUs('real'),
        trivial: cpuUs('trivial'),
        auth: cpuUs('auth'),
        trivialAuth: cpuUs('trivial-auth'),
        generator:
          generatorCpu.known && generatorCpu.responses > 0
            ? Math.round((generatorCpu.seconds / generatorCpu.responses) * 1e7) / 10
            : null,
      },
      workers: workersRun ? { count: settings.workers, result: workersRun, cpuUsPerRequest: cpuUs('workers') } : null,
    });
    // A slice in which other tenants took the shared core inflates its CPU per request (cache and
    // TLB refills after every switch): the median slice is the steadier figure on a loaded host.
    const sliceMedians: Record<string, unknown> = {
      cpu_us_per_request_median_slice: Object.fromEntries(
        targets.map((t) => [t.label, median(sliceCpu.get(t.label)!)]),
      ),
    };
    // The real API's CPU per request without its model call, beside the trivial server's: what
    // serving adds around the model (the model's own cost is bench:trees' subject).
    const realCpu = cpuUs('real');
    const trivialCpu = cpuUs('trivial');
    const aroundModel = model && realCpu !== null ? Math.round((realCpu - model.us_per_request) * 10) / 10 : null;
    sliceMedians.model_in_real = model && {
      ...model,
      cpu_us_per_request_without_model: aroundModel,
      ratio_without_model_vs_trivial_cpu:
        aroundModel !== null && trivialCpu ? Math.round((aroundModel / trivialCpu) * 1000) / 1000 : null,
    };
    const withBaseline = baselineRun
      ? {
          ...doc,
          ...sliceMedians,
          baseline: {
            checkout: settings.baseline,
            with_api_tokens: { ...headline(baselineRun), cpu_us_per_request: cpuUs('baseline') },
            batch100_p50_ms: baselineBatch100?.latency.p50_ms ?? null,
          },
        }
      : { ...doc, ...sliceMedians };
    process.stdout.write(JSON.stringify(withBaseline, null, 2) + '\n');
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const USAGE = `usage: npm run bench:api
  throughput and latency of the real inference API beside a trivial Koa server (the HTTP + JSON
  ceiling), in interleaved rounds; then a 100-instance batch and the cost of bearer-token auth.
  Prints one JSON document on stdout, progress on stderr
env: BENCH_CONNECTIONS (32), BENCH_DURATION_S (15), BENCH_ROUNDS (4; 10 with a baseline or workers, 6 with
  both: every server in every slot, after every other one), BENCH_WARMUP_S (3),
  BENCH_BATCH_REQUESTS (300), BENCH_WORKERS (1; n > 1 also loads the API with WORKERS=n),
  BENCH_GENERATOR (wrk when installed, else autocannon), BENCH_PIN (on: generator on core 0,
  servers on core 1, with >= 2 cores), BENCH_BASELINE (a checkout whose API, with API_TOKENS, is
  loaded in the same rounds: an A/B of two commits), BENCH_RECORDS (same: the model's example
  record in every request; distinct: 1,024 different records in turn, as real traffic: the test
  split's rows after a pipeline run, else drawn from the model's input ranges);
  the API reads REGISTRY_URL as usual`;

await runServerBench('bench:api', USAGE, main);
