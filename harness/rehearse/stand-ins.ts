/** Local processes a rehearsal starts: the API the cluster's pods stand for, and a Prometheus for the canary window. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../core/platform/free-port.ts';
import { trackGroup } from './process-groups.ts';

export interface Started {
  port: number;
  stop(): Promise<void>;
}

/** `api/server.ts` of `source` on 127.0.0.1, serving the registry's production model; resolves once /readyz answers 200. */
export async function startApi(source: string, registryUrl: string, timeoutMs = 90_000): Promise<Started> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(source, 'api', 'server.ts')], {
    cwd: source,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      REGISTRY_URL: registryUrl,
      LOG_LEVEL: 'warn',
      MONITORING: 'off',
    },
    stdio: 'ignore',
    detached: true,
  });
  const untrack = trackGroup(child.pid);
  child.once('exit', untrack);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        resolve();
      }
    });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the API exited (${child.exitCode}) before it was ready (registry ${registryUrl})`);
    const status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return { port, stop };
    await new Promise((r) => setTimeout(r, 300));
  }
  await stop();
  throw new Error(`the API on port ${port} was not ready within ${timeoutMs / 1000} s (registry ${registryUrl})`);
}

export interface PromStandIn extends Started {
  url: string;
  queries: { query: string; auth: string | null }[];
}

/**
 * Answers Prometheus instant queries like a healthy canary: 0 for error ratios, 40 ms for p99
 * latencies. It stands for a self-hosted Prometheus (vars.PROMETHEUS_URL): the deploy tool sends its
 * Google token only to monitoring.googleapis.com, which a loopback server cannot be.
 */
export async function startPrometheus(): Promise<PromStandIn> {
  const queries: PromStandIn['queries'] = [];
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    let body = '';
    for await (const chunk of req) body += chunk;
    // GET ?query=… or POST with a form body, as the Prometheus HTTP API accepts both.
    const query = u.searchParams.get('query') ?? new URLSearchParams(body).get('query') ?? '';
    queries.push({ query, auth: req.headers.authorization ?? null });
    const value = /histogram_quantile/.test(query) ? '0.04' : '0';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, value] }] },
      }),
    );
  };
  const server: Server = createServer((req, res) => {
    void answer(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    queries,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
