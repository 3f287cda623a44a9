/**
 * Does reading the monitoring routes slow predictions down? The same prediction workload
 * (`predictionsPerPhase` answers from `clients` closed-loop clients) runs in alternating phases
 * without and with reads; with reads, each client also sends one read (GET /feedback, /drift,
 * /metrics in turn) per `predictionsPerRead` of its predictions. A fixed
 * amount of work per phase makes the server's CPU time (Linux /proc, contention-proof) the
 * measure: kept = CPU for predictions alone / CPU for predictions plus reads, i.e. the share of a
 * saturated server's throughput left to predictions. The raw request rates are reported beside it;
 * on a shared host they swing with what other processes do.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

export interface ReadersOptions {
  url: string;
  predictBody: string;
  headers: Record<string, string>;
  /** Closed-loop clients; each sends its reads between its predictions. */
  clients: number;
  predictionsPerRead: number;
  predictionsPerPhase: number;
  /** Phase pairs (without readers, with readers). */
  pairs: number;
  readPaths?: string[];
  /** The server's process id, to read its CPU time (Linux). */
  serverPid?: number;
}

export interface ReadersResult {
  /** Server CPU for predictions alone / with reads (null without /proc): throughput kept at saturation. */
  kept: number | null;
  server_cpu_s: { without_readers: number; with_readers: number } | null;
  predict_rps_without_readers: number;
  predict_rps_with_readers: number;
  reads: number;
  read_statuses: Record<string, number>;
  predict_errors: number;
}

/**
 * CPU seconds the server's main thread (where every request is handled) has run: nanoseconds
 * from /proc/<pid>/schedstat, or null where /proc is not available.
 */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return null;
  }
}

function send(agent: Agent, url: URL, method: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers:
          body === undefined
            ? headers
            : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function predictUnderReads(o: ReadersOptions): Promise<ReadersResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients });
  const paths = o.readPaths ?? ['/feedback', '/drift', '/metrics'];
  const predictUrl = new URL('/predict', o.url);
  const r: ReadersResult = {
    kept: null,
    server_cpu_s: null,
    predict_rps_without_readers: 0,
    predict_rps_with_readers: 0,
    reads: 0,
    read_statuses: {},
    predict_errors: 0,
  };
  const cpu = { off: 0, on: 0 };
  const time = { off: 0, on: 0 };
  let cpuKnown = true;
  let k = 0;
  const phase = async (withReads: boolean) => {
    let started = 0;
    let reads = 0;
    // Each client reads after every `predictionsPerRead`-th prediction: the same request stream in
    // both phases, plus the reads, so the server's cost per prediction is comparable.
    const client = async () => {
      let n = 0;
      while (started < o.predictionsPerPhase) {
        started++;
        try {
          await send(agent, predictUrl, 'POST', o.headers, o.predictBody);
        } catch {
          r.predict_errors++;
        }
        if (withReads && ++n % o.predictionsPerRead === 0) {
          reads++;
          const status = await send(agent, new URL(paths[k++ % paths.length], o.url), 'GET', o.headers).catch(() => 0);
          r.read_statuses[status] = (r.read_statuses[status] ?? 0) + 1;
        }
      }
    };
    const t0 = performance.now();
    const c0 = cpuSeconds(o.serverPid);
    await Promise.all(Array.from({ length: o.clients }, client));
    const c1 = cpuSeconds(o.serverPid);
    const key = withReads ? 'on' : 'off';
    time[key] += performance.now() - t0;
    if (c0 === null || c1 === null) cpuKnown = false;
    else cpu[key] += c1 - c0;
    r.reads += reads;
  };
  // Warm-up (JIT, caches, socket pool), not counted; then off/on pairs, alternating which goes first.
  await phase(true);
  Object.assign(cpu, { off: 0, on: 0 });
  Object.assign(time, { off: 0, on: 0 });
  r.reads = 0;
  r.read_statuses = {};
  for (let i = 0; i < o.pairs; i++) {
    await phase(i % 2 === 1);
    await phase(i % 2 === 0);
  }
  agent.destroy();
  const total = o.predictionsPerPhase * o.pairs;
  r.predict_rps_without_readers = Math.round((total / time.off) * 1000);
  r.predict_rps_with_readers = Math.round((total / time.on) * 1000);
  if (cpuKnown && cpu.on > 0) {
    r.kept = Math.round((cpu.off / cpu.on) * 1000) / 1000;
    r.server_cpu_s = {
      without_readers: Math.round(cpu.off * 1000) / 1000,
      with_readers: Math.round(cpu.on * 1000) / 1000,
    };
  }
  return r;
}
