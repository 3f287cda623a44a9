/**
 * Serve warm: before the port opens, requests are driven through a throwaway copy of the app (its
 * own metrics registry, drift windows, feedback state and log sink, the same served model and
 * code) on a loopback port of its own. V8 compiles a function for the first calls and optimises it
 * only after many, so a cold server answers its first requests with code that is still tiering up:
 * a longer tail for exactly the traffic a new pod of a rolling update gets (measured on a quiet
 * machine: the first 4 s of 32-connection load after the port opened had a p99 of 21 and 40 ms
 * cold, 9 and 17 ms warmed, in two rounds; the following seconds alike, 2.7–4.6 ms).
 * Closures are compiled per source function, not per app instance, so what the copy warms is what
 * the real app runs; the copy's counts never reach /metrics, /drift or the feedback log.
 */
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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

/**
 * The request mix: each golden record alone on `POST /predict`, the commonest call. Only that:
 * warmed with V1 batches and V2 tensors as well (records of other shapes through the same
 * functions), the optimised code was generic and single-record traffic ran 12 % slower in
 * `npm run bench:api` (18,034 vs 20,486 req/s, same rounds) than with no warm-up at all; with
 * /predict alone it ran level (19,853 vs 19,317). Other routes are optimised by their own traffic.
 */
export function warmRequests(records: Record<string, unknown>[]): WarmRequest[] {
  return records.map((r) => ({ method: 'POST', path: '/predict', body: JSON.stringify(r) }));
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
