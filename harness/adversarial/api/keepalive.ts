/**
 * Keep-alive clients under load while the server shuts down: `connections` loops send requests
 * back to back on their own kept-alive socket; a loop stops when an answer says
 * `Connection: close` (what a well-behaved client does) or when its request fails. With
 * `reconnect`, a loop instead opens a new connection after `Connection: close` (what a client
 * behind a retrying load balancer, or a naive one, does) and stops only when its request fails;
 * a refused connection (ECONNREFUSED) is a clean end, as a load balancer retries it elsewhere.
 * `stop()` is called after `stopAfterMs` (e.g. SIGTERM to the server). Resets are requests that
 * failed at the socket level after connecting (ECONNRESET, EPIPE, "socket hang up").
 */
import { Agent, request } from 'node:http';

export interface KeepAliveOptions {
  url: string;
  connections: number;
  path: string;
  body: string;
  headers?: Record<string, string>;
  stopAfterMs: number;
  stop: () => void;
  /** Loops still running this long after stop() are abandoned (counted in `stuck`). */
  maxMsAfterStop?: number;
  /** Keep going on a new connection after `Connection: close` (see above). */
  reconnect?: boolean;
}

export interface KeepAliveResult {
  answers: number;
  /** Answers to requests sent after stop() that did not say `Connection: close`. */
  keepAliveAfterStop: number;
  closedByServer: number;
  resets: number;
  /** Connections refused (ECONNREFUSED): the server had stopped listening. */
  refused: number;
  /** Answers to requests sent after stop() (served during the drain). */
  answersAfterStop: number;
  otherErrors: Record<string, number>;
  stuck: number;
  statuses: Record<string, number>;
}

function once(agent: Agent, url: URL, opts: KeepAliveOptions): Promise<{ status: number; connection: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(opts.body),
          ...opts.headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: String(res.headers.connection ?? '') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export async function keepAliveLoad(opts: KeepAliveOptions): Promise<KeepAliveResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
  const url = new URL(opts.path, opts.url);
  const r: KeepAliveResult = {
    answers: 0,
    keepAliveAfterStop: 0,
    closedByServer: 0,
    resets: 0,
    refused: 0,
    answersAfterStop: 0,
    otherErrors: {},
    stuck: 0,
    statuses: {},
  };
  let stoppedAt = Infinity;
  const loop = async () => {
    for (;;) {
      const sentAt = performance.now();
      try {
        const a = await once(agent, url, opts);
        r.answers++;
        r.statuses[a.status] = (r.statuses[a.status] ?? 0) + 1;
        if (sentAt > stoppedAt) r.answersAfterStop++;
        if (a.connection.toLowerCase() === 'close') {
          r.closedByServer++;
          if (opts.reconnect) continue;
          return;
        }
        if (sentAt > stoppedAt) r.keepAliveAfterStop++;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/.test((err as Error).message)) r.resets++;
        else if (code === 'ECONNREFUSED') r.refused++;
        else r.otherErrors[code] = (r.otherErrors[code] ?? 0) + 1;
        return;
      }
    }
  };
  const loops = Array.from({ length: opts.connections }, loop);
  await new Promise((res) => setTimeout(res, opts.stopAfterMs));
  // Requests sent within a few ms of the signal may be answered before the server saw it.
  stoppedAt = performance.now() + 50;
  opts.stop();
  let settled = 0;
  const all = Promise.all(loops.map((l) => l.then(() => void settled++)));
  const timeout = new Promise<'timeout'>((res) =>
    setTimeout(() => res('timeout'), opts.maxMsAfterStop ?? 15_000).unref(),
  );
  if ((await Promise.race([all, timeout])) === 'timeout') r.stuck = opts.connections - settled;
  agent.destroy();
  return r;
}
