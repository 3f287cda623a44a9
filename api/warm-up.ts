/**
 * Serve warm: before the port opens, requests are driven through a throwaway copy of the app (its
 * own metrics registry, drift windows, feedback state and log sink, the same served model and
 * code) on a loopback port of its own. V8 compiles a function for the first calls and optimises it
 * only after many, so a cold server answers its first tens of thousands of requests with code that
 * is still tiering up: a longer tail for exactly the traffic a new pod of a rolling update gets.
 * Closures are compiled per source function, not per app instance, so what the copy warms is what
 * the real app runs; the copy's counts never reach /metrics, /drift or the feedback log.
 */
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ColumnRule } from '../core/schemas/params.ts';
import { v2Datatype } from './routes/v2.ts';

export interface WarmRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

export interface WarmUpOptions {
  /** Stop driving after this long (ms). */
  durationMs: number;
  /** ... or after this many requests, whichever comes first. */
  maxRequests: number;
  /** Requests in flight at once (keep-alive connections). */
  concurrency: number;
  /** Sent with every request (e.g. the bearer token the real clients send). */
  headers?: Record<string, string>;
}

export interface WarmUpResult {
  requests: number;
  /** Answers other than 2xx, and requests that failed on the socket. */
  failed: number;
  /** The first failure's status and body (or error), to say what went wrong. */
  firstFailure: string | null;
  ms: number;
}

/** Records in a 100-instance warm-up batch (the size of a typical batch client's request). */
const BATCH = 100;

/**
 * The request mix: every record alone on `POST /predict` (twice: the commonest call), on V1
 * `:predict` and as V2 tensors, then all of them cycled into one 100-instance V1 batch.
 */
export function warmRequests(
  name: string,
  records: Record<string, unknown>[],
  schema: Record<string, ColumnRule>,
): WarmRequest[] {
  if (records.length === 0) return [];
  const post = (path: string, body: unknown): WarmRequest => ({ method: 'POST', path, body: JSON.stringify(body) });
  const out: WarmRequest[] = [];
  for (const r of records) {
    out.push(post('/predict', r), post(`/v1/models/${name}:predict`, { instances: [r] }), post('/predict', r));
    const inputs = Object.entries(schema)
      .filter(([field]) => r[field] !== undefined)
      .map(([field, rule]) => ({ name: field, shape: [1], datatype: v2Datatype(rule), data: [r[field]] }));
    out.push(post(`/v2/models/${name}/infer`, { inputs }));
  }
  out.push(
    post(`/v1/models/${name}:predict`, {
      instances: Array.from({ length: BATCH }, (_, i) => records[i % records.length]),
    }),
  );
  return out;
}

/**
 * Drive `handler` (an app's request listener) with `requests` in turn, `concurrency` at a time,
 * over keep-alive connections to 127.0.0.1, until the time or the request budget is spent.
 */
export async function warmUp(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  requests: WarmRequest[],
  o: WarmUpOptions,
): Promise<WarmUpResult> {
  const started = performance.now();
  const result: WarmUpResult = { requests: 0, failed: 0, firstFailure: null, ms: 0 };
  if (requests.length === 0 || o.maxRequests <= 0 || o.durationMs <= 0) return result;
  const server = createServer({ keepAliveTimeout: 5000 }, handler);
  // exclusive: in a cluster worker a shared handle would hand these connections to other workers.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const deadline = started + o.durationMs;
  let next = 0;
  const fail = (what: string) => {
    result.failed++;
    result.firstFailure ??= what;
  };
  const one = (r: WarmRequest) =>
    new Promise<void>((resolve) => {
      const headers: Record<string, string> = { ...o.headers };
      if (r.body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(r.body));
      }
      const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300)
            fail(`${r.method} ${r.path} → ${status} ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`);
          resolve();
        });
        res.on('error', (err) => {
          fail(`${r.method} ${r.path}: ${err.message}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        fail(`${r.method} ${r.path}: ${err.message}`);
        resolve();
      });
      req.end(r.body);
    });
  const loop = async () => {
    while (result.requests < o.maxRequests && performance.now() < deadline) {
      result.requests++;
      await one(requests[next++ % requests.length]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, loop));
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  result.ms = performance.now() - started;
  return result;
}
