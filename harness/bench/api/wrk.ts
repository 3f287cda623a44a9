/**
 * The load generator for `npm run bench:api` when `wrk` is installed: a C client with one thread
 * costs the machine a fraction of what the server under test does (autocannon, in Node, cost about
 * as much as the server, so on 2 cores the generator was the bottleneck and req/s could not show
 * the server's own cost). Pinned to a core of its own (`taskset`) when there is one, it leaves the
 * server's core to the server. A Lua `done` hook prints wrk's exact latency histogram (µs, one
 * entry per distinct value) as JSON, so percentiles over interleaved rounds are exact like
 * autocannon's; the per-second timeline is not available from wrk and stays empty.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadOptions, LoadResult } from './load.ts';
import { errorRate, round3, summarizeLatencies } from './stats.ts';

const MARK = '@@wrk-json ';

/** True when `wrk` is on PATH. */
export function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

const lua = (s: string) => JSON.stringify(s); // a JSON string is a valid Lua string literal for ASCII text

/** The Lua script: the request, and a `done` hook printing the summary and the histogram. */
export function wrkScript(options: Pick<LoadOptions, 'method' | 'body' | 'bodies' | 'headers'>): string {
  const headers: Record<string, string> = {
    ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...options.headers,
  };
  return [
    `wrk.method = ${lua(options.method ?? 'POST')}`,
    ...(options.body === undefined ? [] : [`wrk.body = ${lua(options.body)}`]),
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`),
    // Several bodies: each request takes the next (wrk.format fills in the method, path, headers
    // and Content-Length); one thread, so one rotation over all connections.
    ...(options.bodies?.length
      ? [
          `local bodies = {${options.bodies.map(lua).join(',')}}`,
          'local next_body = 0',
          'request = function()',
          '  next_body = next_body % #bodies + 1',
          '  return wrk.format(nil, nil, nil, bodies[next_body])',
          'end',
        ]
      : []),
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    `  io.write(string.format('${MARK}{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"histogram":[',`,
    '    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))',
    '  for i = 1, #latency do',
    '    local v, n = latency(i)',
    '    io.write(string.format(i == 1 and "[%d,%d]" or ",[%d,%d]", v, n))',
    '  end',
    '  io.write("]}\\n")',
    'end',
    '',
  ].join('\n');
}

export interface WrkSummary {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  /** Answers that were not 2xx/3xx. */
  status: number;
  timeout: number;
  /** [latency µs, count] for each distinct latency wrk recorded. */
  histogram: [number, number][];
}

/** The `done` hook's line from wrk's output; throws with the output when it is not there. */
export function parseWrkOutput(stdout: string): WrkSummary {
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`wrk printed no summary (its Lua done hook did not run); output:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(MARK.length)) as WrkSummary;
}

/**
 * wrk's histogram with its coordinated-omission correction taken out. After a run wrk adds, for
 * every latency v above twice the mean interval e between one connection's requests, a synthetic
 * sample at each v − k·e > e (the requests a fixed-rate client would have sent meanwhile). This
 * bench is a closed loop on both servers alike and reports what the clients measured, so the
 * synthetic samples are subtracted again: walking down from the largest value, the raw count at m
 * is the corrected count less the raw counts at m + e, m + 2e, … (`chain` holds those sums).
 */
export function uncorrectedHistogram(s: WrkSummary, connections: number): [number, number][] {
  const perConnection = Math.floor(s.requests / connections);
  if (perConnection === 0) return s.histogram;
  const e = Math.floor(s.duration_us / perConnection);
  const sorted = [...s.histogram].sort((a, b) => b[0] - a[0]);
  const chain = new Map<number, number>();
  const out: [number, number][] = [];
  for (const [v, corrected] of sorted) {
    const raw = v > e ? corrected - (chain.get(v + e) ?? 0) : corrected;
    chain.set(v, raw + (chain.get(v + e) ?? 0));
    if (raw > 0) out.push([v, raw]);
  }
  return out.reverse();
}

/** A LoadResult from wrk's summary; `samples_ms` holds every latency the clients measured. */
export function loadResultOfWrk(s: WrkSummary, connections: number): LoadResult {
  const histogram = uncorrectedHistogram(s, connections);
  let n = 0;
  for (const [, c] of histogram) n += c;
  const samples = new Float64Array(n);
  let at = 0;
  for (const [us, c] of histogram) samples.fill(us / 1000, at, (at += c));
  const durationS = s.duration_us / 1e6;
  const errors = s.connect + s.read + s.write + s.timeout;
  const counts = { responses: s.requests, non2xx: s.status, errors };
  return {
    connections,
    duration_s: round3(durationS),
    responses: s.requests,
    ok: s.requests - s.status,
    non2xx: s.status,
    errors,
    timeouts: s.timeout,
    error_rate: Number(errorRate(counts).toPrecision(4)),
    rps: Math.round(s.requests / Math.max(durationS, 1e-9)),
    latency: summarizeLatencies(samples),
    // wrk does not say which status the non-2xx answers had.
    status_codes: s.status ? { '2xx': s.requests - s.status, 'non-2xx': s.status } : { '2xx': s.requests },
    timeline: [],
    samples_ms: samples,
  };
}

export interface WrkOptions extends LoadOptions {
  /** `taskset -c` list for the generator (e.g. "0"); unset: no pinning. */
  cpus?: string;
}

/** One wrk run (1 thread, `connections` connections, `durationS` seconds) and the CPU seconds wrk itself used. */
export async function runWrk(options: WrkOptions): Promise<LoadResult & { generator_cpu_s: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  try {
    const script = join(dir, 'request.lua');
    writeFileSync(script, wrkScript(options));
    const args = [
      '-t1',
      `-c${options.connections}`,
      `-d${Math.max(1, Math.round(options.durationS ?? 10))}s`,
      `--timeout`,
      `${options.timeoutS ?? 10}s`,
      '-s',
      script,
      options.url + options.path,
    ];
    const command = (options.cpus ? ['taskset', '-c', options.cpus, 'wrk'] : ['wrk']).concat(args);
    // bash's `times` after wrk prints the CPU time its children used: the generator's own cost.
    const quoted = command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const child = spawn('bash', ['-c', `${quoted}; status=$?; times; exit $status`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`wrk exited with ${code}: ${(err || out).slice(-1000)}`);
    const result = loadResultOfWrk(parseWrkOutput(out), options.connections);
    return { ...result, generator_cpu_s: childrenCpuSeconds(out) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The children's user + system time from bash's `times` (its last line: "0m1.234s 0m0.567s"). */
export function childrenCpuSeconds(output: string): number {
  const last = output.trim().split('\n').at(-1) ?? '';
  const m = [...last.matchAll(/(\d+)m([\d.]+)s/g)];
  return m.length === 2 ? m.reduce((s, x) => s + Number(x[1]) * 60 + Number(x[2]), 0) : Number.NaN;
}
