/**
 * Every external effect of the deploy tool goes through a DeployRunner, so the strategies
 * (strategies.ts) can be unit-tested with a scripted fake and no cluster. This file also holds
 * the real runner (kubectl on PATH, fetch, Prometheus HTTP API) and a dry-run wrapper.
 */
import { spawn } from 'node:child_process';
import { $ } from 'zx';

export interface KubectlResult { code: number; stdout: string; stderr: string }
export interface HttpResult { status: number; json: unknown }
export interface PortForward { baseUrl: string; close(): Promise<void> }

export interface DeployRunner {
  /** Runs `kubectl <args>`; never throws, a failure is a non-zero code. */
  kubectl(args: string[]): Promise<KubectlResult>;
  /** JSON request; network errors come back as status 0. */
  http(method: string, url: string, body?: unknown): Promise<HttpResult>;
  /** Instant query; the first sample's value, or null when Prometheus is unreachable, errors, or has no data. */
  promQuery(expr: string): Promise<number | null>;
  /** `kubectl port-forward <target> :<remotePort>` in the background; baseUrl points at it. */
  portForward(namespace: string, target: string, remotePort: number): Promise<PortForward>;
  sleep(ms: number): Promise<void>;
  log(msg: string): void;
}

export interface RealRunnerOptions {
  prometheusUrl?: string;
  /** Bearer token for the API's prediction routes (API_TOKENS), if the cluster sets one. */
  apiToken?: string;
  httpTimeoutMs?: number;
  log?: (msg: string) => void;
}

export function realRunner(opts: RealRunnerOptions = {}): DeployRunner {
  const timeout = opts.httpTimeoutMs ?? 15_000;
  const log = opts.log ?? ((msg: string) => process.stderr.write(`[deploy] ${msg}\n`));
  return {
    async kubectl(args) {
      // zx quotes every argument (no shell injection through image refs or names) and, with
      // nothrow, hands back the exit code for the strategies to decide on.
      const p = await $({ nothrow: true, quiet: true })`kubectl ${args}`;
      return { code: p.exitCode ?? 1, stdout: p.stdout, stderr: p.stderr };
    },
    async http(method, url, body) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (opts.apiToken) headers.authorization = `Bearer ${opts.apiToken}`;
      try {
        const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeout) });
        const text = await res.text();
        let json: unknown = null;
        try { json = text ? JSON.parse(text) : null; } catch { json = text; }
        return { status: res.status, json };
      } catch (err) {
        return { status: 0, json: { error: (err as Error).message } };
      }
    },
    async promQuery(expr) {
      if (!opts.prometheusUrl) return null;
      try {
        const url = `${opts.prometheusUrl.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(expr)}`;
        const res = await fetch(url, { signal: AbortSignal.timeout(timeout) });
        if (!res.ok) return null;
        return parsePromResponse(await res.json());
      } catch {
        return null;
      }
    },
    portForward(namespace, target, remotePort) {
      return new Promise((resolve, reject) => {
        const child = spawn('kubectl', ['-n', namespace, 'port-forward', target, `:${remotePort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        const timer = setTimeout(() => { child.kill(); reject(new Error(`port-forward to ${target} did not start within 30 s: ${out}`)); }, 30_000);
        const onData = (chunk: Buffer) => {
          out += chunk.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
          if (!m) return;
          clearTimeout(timer);
          resolve({
            baseUrl: `http://127.0.0.1:${m[1]}`,
            close: () => new Promise<void>((done) => { if (child.exitCode !== null) return done(); child.once('exit', () => done()); child.kill(); }),
          });
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
        child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`port-forward exited (${code}): ${out}`)); });
      });
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    log,
  };
}

/** The first sample of an instant-query answer; null for errors, empty results and NaN/Inf. */
export function parsePromResponse(body: unknown): number | null {
  const b = body as { status?: string; data?: { resultType?: string; result?: unknown } };
  if (b?.status !== 'success' || !b.data) return null;
  const r = b.data.result;
  let raw: unknown;
  if (b.data.resultType === 'scalar') raw = (r as unknown[])[1];
  else if (Array.isArray(r) && r.length) raw = (r[0] as { value?: unknown[] }).value?.[1];
  const n = typeof raw === 'string' ? Number(raw) : NaN;
  return Number.isFinite(n) ? n : null;
}

/** Read-only kubectl verbs pass through in dry-run; everything else is only logged. */
const READ_ONLY = new Set(['get', 'describe']);

/**
 * Dry run: reads hit the cluster, mutations are recorded instead of executed and answered with
 * success, the smoke test and Prometheus are simulated as healthy. The result is the happy path
 * plus `planned`, the commands that would have changed the cluster.
 */
export function dryRunRunner(inner: DeployRunner): DeployRunner & { planned: string[] } {
  const planned: string[] = [];
  return {
    planned,
    async kubectl(args) {
      const verb = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-n');
      if (verb && READ_ONLY.has(verb)) return inner.kubectl(args);
      planned.push(`kubectl ${args.join(' ')}`);
      return { code: 0, stdout: '', stderr: '' };
    },
    async http(method, url) {
      planned.push(`${method} ${url}`);
      if (url.endsWith(':predict')) return { status: 200, json: { model_version: 'dry-run', predictions: [{}] } };
      if (url.includes('/v1/models/')) return { status: 200, json: { inputs: [] } };
      return { status: 200, json: { status: 'ready' } };
    },
    async promQuery(expr) { planned.push(`promql ${expr}`); return 0; },
    async portForward(namespace, target, port) {
      planned.push(`kubectl -n ${namespace} port-forward ${target} :${port}`);
      return { baseUrl: 'http://dry-run', close: async () => {} };
    },
    sleep: async () => {},
    log: (msg) => inner.log(msg),
  };
}
