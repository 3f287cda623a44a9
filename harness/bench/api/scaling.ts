/**
 * `npm run bench:api:scaling`: does the API's throughput grow with the cores it is given? The API
 * runs as `npm start` serves it (monitoring on, info log) with WORKERS=n for each n of
 * BENCH_SCALING_WORKERS, each in a CPU cgroup whose quota is n × BENCH_CORE_SHARE of a core
 * (cgroup.ts): "n cores" scaled down so that the largest count and the load generator fit on this
 * host together. wrk (unpinned, outside every group) sends 32 connections of single-record
 * `POST /predict` to each in interleaved slices (rounds.ts sliceOrder). Per count it prints req/s,
 * p50/p99, CPU per request, the cores used against the quota, how often the quota held the group
 * back, the speed-up over the fewest workers and its efficiency (1.0: linear in the cores), and
 * whether `/metrics` (the sum over the workers) counted every answered prediction. Needs root (or
 * a delegated cgroup) and wrk.
 *
 * Settings (env): BENCH_SCALING_WORKERS (1,2,4), BENCH_CORE_SHARE (0.3 of a core per worker),
 * BENCH_DURATION_S (24 per worker count), BENCH_ROUNDS (a balanced square: every count in every
 * slot), BENCH_WARMUP_S (10 per count), BENCH_CONNECTIONS (32).
 */
import { cpus, loadavg } from 'node:os';
import { createCpuGroup, statDelta, type CpuGroup, type CpuStat } from './cgroup.ts';
import { envNumber, REAL_API_NAME, runServerBench } from './cli.ts';
import { processTreeCpuSeconds } from './cpu.ts';
import { mergeLoadResults, type LoadResult } from './load.ts';
import { fetchModelFacts } from './model-info.ts';
import { balancedRounds, sliceOrder } from './rounds.ts';
import {
  counterTotal,
  growsWithCores,
  parseWorkerCounts,
  summarizeScaling,
  type ScalingRow,
  type ScalingTotals,
} from './scaling-summary.ts';
import { REAL_API_SCRIPT, startServer, type ServerHandle } from './server-process.ts';
import { runWrk, wrkAvailable } from './wrk.ts';

const progress = (msg: string) => process.stderr.write(`[bench:api:scaling] ${msg}\n`);

async function predictionsCounted(url: string): Promise<number | null> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return res.ok ? counterTotal(await res.text(), 'model_predictions_total') : null;
  } catch {
    return null;
  }
}

function markdown(rows: readonly ScalingRow[]): string {
  const head =
    '| workers | cores given | req/s | p50 ms | p99 ms | CPU µs/request | cores used | throttled periods | speed-up | efficiency | counted / answered |\n' +
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const cell = (v: number | null) => (v === null ? '–' : String(v));
  return [
    head,
    ...rows.map(
      (r) =>
        `| ${r.workers} | ${r.cores_given} | ${r.rps} | ${r.p50_ms} | ${r.p99_ms} | ${cell(r.cpu_us_per_request)} | ${cell(r.cores_used)} | ${cell(r.throttled_share)} | ${r.speedup} | ${r.efficiency} | ${cell(r.counted_vs_answered)} |`,
    ),
  ].join('\n');
}

async function main(): Promise<number> {
  const counts = parseWorkerCounts(process.env.BENCH_SCALING_WORKERS ?? '1,2,4');
  const share = envNumber('BENCH_CORE_SHARE', 0.3);
  const settings = {
    workers: counts,
    core_share: share,
    duration_s: envNumber('BENCH_DURATION_S', 24),
    rounds: Math.round(envNumber('BENCH_ROUNDS', balancedRounds(counts.length))),
    // A worker warms up (JIT, the trees' WebAssembly tiers) on share × warm-up seconds of CPU:
    // 10 s at 0.3 of a core is about the 3 s of one core that bench:api gives.
    warmup_s: envNumber('BENCH_WARMUP_S', 10),
    connections: envNumber('BENCH_CONNECTIONS', 32),
    path: '/predict',
  };
  if (!wrkAvailable()) throw new Error('wrk is not installed: apt-get install wrk');
  const most = Math.round(counts.at(-1)! * share * 1000) / 1000;
  // The generator needs about a third of what the API uses (bench:api: ~13 µs of wrk per ~40 µs of API).
  if (most * 1.4 > cpus().length)
    throw new Error(
      `${counts.at(-1)} workers × ${share} of a core = ${most} cores, and wrk needs about a third as much again: ` +
        `more than this host's ${cpus().length}; lower BENCH_CORE_SHARE or BENCH_SCALING_WORKERS`,
    );
  const groups: CpuGroup[] = [];
  const servers: ServerHandle[] = [];
  const loadAtStart = loadavg()[0];
  try {
    for (const n of counts) {
      const group = createCpuGroup(`gitops-ml-bench-${process.pid}-w${n}`, n * share);
      groups.push(group);
      progress(`starting the API with WORKERS=${n} in ${group.path} (${group.cores} of a core)`);
      servers.push(
        await startServer({
          name: `${REAL_API_NAME} with WORKERS=${n}`,
          script: REAL_API_SCRIPT,
          env: { LOG_LEVEL: 'info', WORKERS: String(n) },
          cgroupProcs: group.procs,
          readyTimeoutMs: 180_000,
        }),
      );
    }
    const facts = await fetchModelFacts(servers[0].url);
    const body = JSON.stringify(facts.record);
    const loadOf = (s: ServerHandle) => ({
      url: s.url,
      path: settings.path,
      body,
      connections: settings.connections,
    });
    for (const [i, s] of servers.entries()) {
      progress(`WORKERS=${counts[i]}: warm-up ${settings.warmup_s} s`);
      await runWrk({ ...loadOf(s), durationS: settings.warmup_s });
    }
    const slice = settings.duration_s / settings.rounds;
    const runs: LoadResult[][] = counts.map(() => []);
    const totals: ScalingTotals[] = counts.map((n) => ({
      workers: n,
      cores_given: Math.round(n * share * 1000) / 1000,
      wall_s: 0,
      responses: 0,
      cpu_s: 0,
      periods: 0,
      throttled: 0,
      predictions_counted: 0,
      p50_ms: 0,
      p99_ms: 0,
    }));
    for (let round = 0; round < settings.rounds; round++) {
      for (const at of sliceOrder(counts.length, round)) {
        const s = servers[at];
        const t = totals[at];
        const statBefore: CpuStat = groups[at].stat();
        const cpuBefore = processTreeCpuSeconds(s.pid);
        const countedBefore = await predictionsCounted(s.url);
        const started = performance.now();
        const r = await runWrk({ ...loadOf(s), durationS: slice });
        const wall = (performance.now() - started) / 1000;
        const cpuAfter = processTreeCpuSeconds(s.pid);
        const stat = statDelta(statBefore, groups[at].stat());
        const countedAfter = await predictionsCounted(s.url);
        runs[at].push(r);
        t.responses += r.ok;
        // wrk's own duration, not the process's start-up and its report
        t.wall_s += r.duration_s > 0 ? r.duration_s : wall;
        t.cpu_s = t.cpu_s !== null && cpuBefore !== null && cpuAfter !== null ? t.cpu_s + cpuAfter - cpuBefore : null;
        t.periods += stat.periods;
        t.throttled += stat.throttled;
        t.predictions_counted =
          t.predictions_counted !== null && countedBefore !== null && countedAfter !== null
            ? t.predictions_counted + countedAfter - countedBefore
            : null;
        progress(
          `round ${round + 1}/${settings.rounds} WORKERS=${t.workers}: ${r.rps} rps, p99 ${r.latency.p99_ms} ms, ` +
            `throttled in ${stat.throttled} of ${stat.periods} periods, non-2xx ${r.non2xx}, errors ${r.errors}`,
        );
      }
    }
    for (const [i, t] of totals.entries()) {
      const merged = mergeLoadResults(runs[i]);
      t.p50_ms = merged.latency.p50_ms;
      t.p99_ms = merged.latency.p99_ms;
    }
    const rows = summarizeScaling(totals);
    const grows = growsWithCores(rows);
    progress('\n' + markdown(rows));
    progress(grows ? 'req/s grows with the cores given' : 'req/s does NOT grow with the cores given');
    const doc = {
      benchmark: 'api-scaling',
      settings,
      machine: {
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model ?? null,
        node: process.version,
        backend: facts.backend,
        model_version: facts.version,
        load_average: { start: Math.round(loadAtStart * 100) / 100, end: Math.round(loadavg()[0] * 100) / 100 },
      },
      rows,
      grows_with_cores: grows,
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return grows ? 0 : 1;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(groups.map((g) => g.remove()));
  }
}

const USAGE = `usage: npm run bench:api:scaling
  req/s of the API (as npm start serves it) with WORKERS=n for each n, each run in a CPU cgroup
  whose quota is n × BENCH_CORE_SHARE of a core, wrk outside the groups; prints per count req/s,
  p50/p99, CPU per request, throttling, speed-up and efficiency as JSON on stdout (a table on
  stderr). Exit 1 when req/s does not grow with the cores given. Needs root (cgroups) and wrk
example: BENCH_SCALING_WORKERS=1,2,4 BENCH_CORE_SHARE=0.3 npm run bench:api:scaling
env: BENCH_SCALING_WORKERS (1,2,4), BENCH_CORE_SHARE (0.3), BENCH_DURATION_S (24 per count),
  BENCH_ROUNDS (balanced: every count in every slot), BENCH_WARMUP_S (10 per count), BENCH_CONNECTIONS (32);
  the API reads REGISTRY_URL as usual`;

await runServerBench('bench:api:scaling', USAGE, main);
