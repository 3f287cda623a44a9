/**
 * Every external effect of the deploy tool goes through a DeployRunner, so the strategies
 * (strategies.ts) can be unit-tested with a scripted fake and no cluster. This file also holds
 * the real runner (kubectl on PATH, fetch, Prometheus HTTP API) and a dry-run wrapper.
 */
import { spawn } from 'node:child_process';
import { $ } from 'zx';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}
export interface HttpResult {
  status: number;
  json: unknown;
}
export interface PortForward {
  baseUrl: string;
  close(): Promise<void>;
}

/** One instant query: a number, an explicit "no data" (no series, NaN), or an error (unreachable, refused, bad query). */
export type PromAnswer = { kind: 'value'; value: number } | { kind: 'no-data' } | { kind: 'error'; message: string };

export interface DeployRunner {
  /** Runs `kubectl <args>` (with `stdin` piped in, for `apply -f -`); never throws, a failure is a non-zero code. */
  kubectl(args: string[], stdin?: string): Promise<KubectlResult>;
  /** JSON request; network errors come back as status 0. */
  http(method: string, url: string, body?: unknown): Promise<HttpResult>;
  /** Instant query against PROMETHEUS_URL (authenticated when the runner has a token source). */
  promQuery(expr: string): Promise<PromAnswer>;
  /** `kubectl port-forward <target> :<remotePort>` in the background; baseUrl points at it. */
  portForward(namespace: string, target: string, remotePort: number): Promise<PortForward>;
  sleep(ms: number): Promise<void>;
  log(msg: string): void;
}

export interface RealRunnerOptions {
  prometheusUrl?: string;
  /** Bearer token for every Prometheus query (Google Managed Prometheus: a Google OAuth access token). */
  prometheusToken?: () => Promise<string>;
  /** Bearer token for the API's prediction routes (API_TOKENS), if the cluster sets one. */
  apiToken?: string;
  httpTimeoutMs?: number;
  log?: (msg: string) => void;
}

export function realRunner(opts: RealRunnerOptions = {}): DeployRunner {
  const timeout = opts.httpTimeoutMs ?? 15_000;
  const log = opts.log ?? ((msg: string) => process.stderr.write(`[deploy] ${msg}\n`));
  return {
    async kubectl(args, stdin) {
      // zx quotes every argument (no shell injection through image refs or names) and, with
      // nothrow, hands back the exit code for the strategies to decide on.
      const p = await $({
        nothrow: true,
        quiet: true,
        ...(stdin === undefined ? {} : { input: stdin }),
      })`kubectl ${args}`;
      return { code: p.exitCode ?? 1, stdout: p.stdout, stderr: p.stderr };
    },
    async http(method, url, body) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (opts.apiToken) headers.authorization = `Bearer ${opts.apiToken}`;
      try {
        const res = await fetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeout),
        });
        const text = await res.text();
        let json: unknown = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          json = text;
        }
        return { status: res.status, json };
      } catch (err) {
        return { status: 0, json: { error: (err as Error).message } };
      }
    },
    promQuery: (expr) => queryPrometheus(opts.prometheusUrl, expr, { token: opts.prometheusToken, timeoutMs: timeout }),
    portForward(namespace, target, remotePort) {
      return new Promise((resolve, reject) => {
        const child = spawn('kubectl', ['-n', namespace, 'port-forward', target, `:${remotePort}`], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        const timer = setTimeout(() => {
          child.kill();
          reject(new Error(`port-forward to ${target} did not start within 30 s: ${out}`));
        }, 30_000);
        const onData = (chunk: Buffer) => {
          out += chunk.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
          if (!m) return;
          clearTimeout(timer);
          resolve({
            baseUrl: `http://127.0.0.1:${m[1]}`,
            close: () =>
              new Promise<void>((done) => {
                if (child.exitCode !== null) return done();
                child.once('exit', () => done());
                child.kill();
              }),
          });
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', (c: Buffer) => {
          out += c.toString();
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`port-forward exited (${code}): ${out}`));
        });
      });
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    log,
  };
}

/** The first sample of an instant-query answer; empty results and NaN/Inf are "no data", an error status is an error. */
export function parsePromResponse(body: unknown): PromAnswer {
  const b = body as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  if (b?.status !== 'success' || !b.data)
    return { kind: 'error', message: `query failed: ${b?.error ?? JSON.stringify(body)?.slice(0, 200)}` };
  const r = b.data.result;
  let raw: unknown;
  if (b.data.resultType === 'scalar') raw = (r as unknown[])[1];
  else if (Array.isArray(r) && r.length) raw = (r[0] as { value?: unknown[] }).value?.[1];
  const n = typeof raw === 'string' ? Number(raw) : NaN;
  return Number.isFinite(n) ? { kind: 'value', value: n } : { kind: 'no-data' };
}

/**
 * POST /api/v1/query (form-encoded, as Prometheus and Google Managed Prometheus both accept), with
 * `Authorization: Bearer <token>` when a token source is given. Never throws.
 */
export async function queryPrometheus(
  baseUrl: string | undefined,
  expr: string,
  o: { token?: () => Promise<string>; timeoutMs?: number } = {},
): Promise<PromAnswer> {
  if (!baseUrl)
    return {
      kind: 'error',
      message:
        'PROMETHEUS_URL is not set (Managed Prometheus: https://monitoring.googleapis.com/v1/projects/<project>/location/global/prometheus)',
    };
  const url = `${baseUrl.replace(/\/$/, '')}/api/v1/query`;
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': 'application/x-www-form-urlencoded',
  };
  try {
    if (o.token) headers.authorization = `Bearer ${await o.token()}`;
  } catch (err) {
    return { kind: 'error', message: `no access token for Prometheus: ${(err as Error).message}` };
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ query: expr }),
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
    });
  } catch (err) {
    return { kind: 'error', message: `cannot reach Prometheus at ${url}: ${(err as Error).message}` };
  }
  const text = await res.text().catch(() => '');
  if (res.status === 401 || res.status === 403) {
    return {
      kind: 'error',
      message: `Prometheus refused the query (HTTP ${res.status}${o.token ? '' : ', sent without a token'}): Managed Prometheus needs a Google access token of an identity with roles/monitoring.viewer; ${text.slice(0, 200)}`,
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: 'error', message: `Prometheus answered HTTP ${res.status}, not JSON: ${text.slice(0, 200)}` };
  }
  if (!res.ok && (body as { status?: string })?.status !== 'error')
    return { kind: 'error', message: `Prometheus answered HTTP ${res.status}: ${text.slice(0, 200)}` };
  return parsePromResponse(body);
}

/**
 * The runner's Google credentials as an OAuth access token: `gcloud auth print-access-token` (on a
 * GitHub runner, after google-github-actions/auth, that is the Workload Identity Federation identity).
 * Cached for `ttlMs` (tokens live an hour).
 */
export function gcloudAccessToken(
  o: { gcloud?: string; ttlMs?: number; now?: () => number } = {},
): () => Promise<string> {
  const now = o.now ?? Date.now;
  let cached: { token: string; at: number } | undefined;
  return async () => {
    if (cached && now() - cached.at < (o.ttlMs ?? 10 * 60_000)) return cached.token;
    const p = await $({ nothrow: true, quiet: true })`${o.gcloud ?? 'gcloud'} auth print-access-token`;
    const token = p.stdout.trim();
    if (p.exitCode !== 0 || !token)
      throw new Error(
        `gcloud auth print-access-token failed (exit ${p.exitCode}): ${p.stderr.trim().slice(0, 300) || 'no token printed'}`,
      );
    cached = { token, at: now() };
    return token;
  };
}

/** Read-only kubectl verbs pass through in dry-run; everything else is only logged. */
const READ_ONLY = new Set(['get', 'describe', 'kustomize']);

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
    http(method, url) {
      planned.push(`${method} ${url}`);
      if (url.endsWith(':predict'))
        return Promise.resolve({ status: 200, json: { model_version: 'dry-run', predictions: [{}] } });
      if (url.includes('/v1/models/')) return Promise.resolve({ status: 200, json: { inputs: [] } });
      return Promise.resolve({ status: 200, json: { status: 'ready' } });
    },
    promQuery(expr) {
      planned.push(`promql ${expr}`);
      return Promise.resolve({ kind: 'value', value: 0 });
    },
    portForward(namespace, target, port) {
      planned.push(`kubectl -n ${namespace} port-forward ${target} :${port}`);
      return Promise.resolve({ baseUrl: 'http://dry-run', close: async () => {} });
    },
    sleep: async () => {},
    log: (msg) => inner.log(msg),
  };
}
