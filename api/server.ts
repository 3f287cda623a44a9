/**
 * `npm run serve` (and the end of `npm start`): serve the registry's production model on
 * HOST:PORT (127.0.0.1:8080 by default). SIGTERM/SIGINT: the listener closes at once (new
 * connections are refused, never reset), readiness turns 503 and every answer says
 * `Connection: close` (busy keep-alive clients leave after their current request); after a short
 * drain idle sockets close, in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS), exit 0.
 * WORKERS=n|auto runs n processes, or one per core within the cgroup's CPU quota (core/platform/cpu-quota.ts).
 */
import cluster from 'node:cluster';
import { createServer, type Server as HttpServer } from 'node:http';
import { Server } from 'node:net';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { createLogger, type Logger } from '../core/platform/log.ts';
import { selectBackend } from '../core/model/tfjs-backend.ts';
import { decisionThreshold } from '../core/model/decision.ts';
import { openRegistry } from '../core/registry/index.ts';
import { loadConfig, type ApiConfig } from './config.ts';
import { createMetrics } from './prometheus.ts';
import { ModelManager } from './model-manager.ts';
import { Batcher } from './batcher.ts';
import { FeedbackWindow, SeenIds, liveMetrics, type LiveMetrics } from './feedback.ts';
import { createSigner, formatSigningKey, randomSigningKey } from './prediction-id.ts';
import { openDedupeStore } from './feedback-dedupe.ts';
import { FleetDriftSources, FleetQuality, registerFleetMetrics } from './fleet-metrics.ts';
import { liveMulticlass } from './multiclass.ts';
import { RetrainAlerter, webhookFromEnv } from './alerts.ts';
import { DEFAULT_DRIFT, DriftMonitor } from './drift-monitor.ts';
import { loadParams, type DriftParams } from '../core/schemas/params.ts';
import type Koa from 'koa';
import { createApp, requestListener } from './app.ts';
import { RequestSummary } from './middleware/request-summary.ts';
import { renderIndexHtml } from './ui/page.ts';
import { isMain } from '../core/platform/is-main.ts';
import { defineCli } from '../core/platform/cli.ts';
import { waitForParent } from '../core/platform/parent-go.ts';
import { serveClusterScrapes, workerScrape } from './cluster-metrics.ts';
import { warmRequests, warmUp } from './warm-up.ts';

/** How long busy keep-alive clients get to receive an answer with `Connection: close` before idle sockets close. */
const DRAIN_MS = 1000;

/** The info-level request log: one summary line per this interval (per-request lines are at debug). */
const REQUEST_SUMMARY_MS = 10_000;

export interface RunningServer {
  url: string;
  server: HttpServer;
  manager: ModelManager;
  /** The Koa app the server answers with (through requestListener: its predict lane, then Koa). */
  app: Koa;
  close(): Promise<void>;
}

/** Requests in flight while warming up (what a busy load balancer keeps open to one pod). */
const WARM_UP_CONCURRENCY = 16;

/** The API's log: JSON lines, or readable ones with LOG_FORMAT=text. */
const apiLogger = (write: (line: string) => void) =>
  createLogger({ component: 'api', format: process.env.LOG_FORMAT === 'text' ? 'text' : 'json', write });

/**
 * Drive the request path through a throwaway copy of the app (api/warm-up.ts): same config, model
 * and code; its own metrics registry, drift windows, feedback state, request summary and a silent
 * log, so nothing it does is seen in /metrics, /drift, /feedback or the log.
 */
async function warmRequestPath(
  config: ApiConfig,
  manager: ModelManager,
  renderUi: (o: { modelName: string }) => string,
  log: Logger,
) {
  const m = manager.current;
  if (!m) return;
  const quiet = createLogger({ write: () => {} });
  const metrics = createMetrics({ servedModel: () => null, liveQuality: () => ({}) }, undefined, {
    defaultMetrics: false,
  });
  const drift = new DriftMonitor(metrics, { windowSize: config.driftWindow, params: DEFAULT_DRIFT });
  const batcher = new Batcher(
    manager,
    metrics,
    { maxRows: config.maxBatchRows, waitMs: config.batchWaitMs },
    (model, out) => drift.observe(model, out.table, out.predictions, out.probabilities),
  );
  const app = createApp({
    config: { ...config, feedbackDedupeUrl: null },
    manager,
    batcher,
    metrics,
    log: quiet,
    renderUi,
    feedback: {
      ids: createSigner(null, () => {}),
      seen: new SeenIds(1000),
      window: new FeedbackWindow(100),
      fleet: new FleetQuality(),
      dedupe: null,
    },
    drift,
    lifecycle: { draining: false },
    requestSummary: new RequestSummary(quiet),
  });
  const token = config.apiTokens[0];
  const result = await warmUp(requestListener(app), warmRequests(m.bundle.golden.map((g) => g.record)), {
    durationMs: config.warmUpMs,
    maxRequests: Number.POSITIVE_INFINITY,
    concurrency: WARM_UP_CONCURRENCY,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  const fields = { requests: result.requests, ms: Math.round(result.ms), model: m.name, version: m.version };
  if (result.failed > 0)
    log.warn('warm-up requests failed: serving anyway, the first real requests may be slower', {
      ...fields,
      failed: result.failed,
      first_failure: result.firstFailure,
      fix: 'WARM_UP_MS=0 turns the warm-up off; the failure above says what the request path refused',
    });
  else log.info('warmed up the request path before opening the port', fields);
}

export async function startServer(
  config: ApiConfig,
  options: {
    log?: Logger;
    repoRoot?: string;
    renderUi?: (o: { modelName: string }) => string;
    driftParams?: DriftParams;
    /** A cluster worker: /metrics answers the sum of every worker's registry (api/cluster-metrics.ts). */
    clusterWorker?: boolean;
    /** Awaited with the model loaded, before the port opens (npm start: until the pipeline has succeeded). */
    beforeListen?: () => Promise<void>;
  } = {},
): Promise<RunningServer> {
  const log = options.log ?? apiLogger((l) => process.stdout.write(l + '\n'));
  const repoRoot = options.repoRoot ?? process.cwd();
  const { tf, backend } = await selectBackend({ log });
  const registry = await openRegistry(config.registryUrl, { baseDir: repoRoot, log: log.child('registry') });
  const feedback = {
    ids: createSigner(config.predictionIdKeys, (m, f) => log.warn(m, f)),
    seen: new SeenIds(config.feedbackCapacity),
    window: new FeedbackWindow(config.feedbackWindow),
    fleet: new FleetQuality(),
  };
  const fleetDrift = new FleetDriftSources();
  const liveNow = () => {
    const m = manager.current;
    return m
      ? {
          model: m,
          live: m.bundle.classes
            ? liveMulticlass(feedback.window.snapshot(), m.bundle.classes)
            : liveMetrics(m.bundle.meta.task, feedback.window.snapshot(), decisionThreshold(m.bundle.meta)),
        }
      : null;
  };
  // Read at scrape time (the manager exists by then).
  const metrics = createMetrics({
    servedModel: () => {
      const m = manager.current;
      return m && { name: m.name, createdAt: Date.parse(m.bundle.meta.created_at) || 0 };
    },
    liveQuality: () => liveGauges(liveNow()?.live ?? null),
  });
  registerFleetMetrics(metrics.registry, feedback.fleet, fleetDrift);
  const dedupe = openDedupeStore(config, log, metrics.dedupeErrors);
  const manager = new ModelManager({
    registry,
    tf,
    backend,
    name: config.modelName,
    stage: config.stage,
    cacheDir: join(repoRoot, '.pipeline', 'serving-cache'),
    metrics,
    log,
    goldenTolerance: config.goldenTolerance,
  });
  const first = await manager.refresh();
  if (first.status !== 'swapped')
    log.warn(`not ready yet: ${first.detail ?? first.status}; polling every ${config.pollIntervalMs} ms`);
  manager.start(config.pollIntervalMs);
  const drift = new DriftMonitor(metrics, {
    windowSize: config.driftWindow,
    params: options.driftParams ?? DEFAULT_DRIFT,
    fleet: fleetDrift,
  });
  const alerter = new RetrainAlerter({
    ...webhookFromEnv(process.env),
    persistChecks: config.alertPersistChecks,
    minIntervalMs: config.alertMinIntervalMs,
    liveDrop: config.alertLiveDrop,
    liveMinSamples: config.alertLiveMinSamples,
    log,
  });
  // Once a minute at most: a check that fails fails every second.
  let lastCheckError = -Infinity;
  const checkFailed = (err: Error) => {
    if (Date.now() - lastCheckError < 60_000) return;
    lastCheckError = Date.now();
    log.error('drift and retrain check failed; serving goes on, the next check runs as usual', {
      error: err.message,
      stack: err.stack?.split('\n').slice(1, 4).join(' | '),
    });
  };
  drift.start(
    config.driftIntervalMs,
    (state) => {
      const now = liveNow();
      if (!now) return;
      const { model: m, live } = now;
      alerter
        .check(state, live, { name: m.name, version: m.version, validation: m.bundle.meta.metrics.validation })
        .catch(checkFailed);
    },
    checkFailed,
  );
  const observer = config.monitoring
    ? (
        m: Parameters<DriftMonitor['observe']>[0],
        out: {
          table: Parameters<DriftMonitor['observe']>[1];
          predictions: (number | null)[];
          probabilities?: (number[] | null)[];
        },
      ) => drift.observe(m, out.table, out.predictions, out.probabilities)
    : undefined;
  const batcher = new Batcher(manager, metrics, { maxRows: config.maxBatchRows, waitMs: config.batchWaitMs }, observer);
  const renderUi = options.renderUi ?? renderIndexHtml;
  const lifecycle = { draining: false };
  const requestSummary = new RequestSummary(log);
  requestSummary.start(REQUEST_SUMMARY_MS);
  const app = createApp({
    config,
    manager,
    batcher,
    metrics,
    log,
    renderUi,
    feedback: { ...feedback, dedupe },
    drift,
    lifecycle,
    requestSummary,
    ...(options.clusterWorker ? { scrapeText: workerScrape(metrics.registry) } : {}),
  });
  const server = createServer({ keepAliveTimeout: 5000 }, requestListener(app));
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  if (config.warmUpMs > 0 && manager.current) await warmRequestPath(config, manager, renderUi, log);
  await options.beforeListen?.();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  if (config.apiTokens.length === 0 && !config.publicApi) {
    log.warn('serving without authentication: API_TOKENS is not set, so anyone who reaches this port can predict', {
      host: config.host,
      fix: 'set API_TOKENS (comma-separated, 16+ characters each), or PUBLIC_API=on to say an open API is meant',
    });
  }
  log.info('listening', {
    url,
    model: config.modelName,
    stage: config.stage,
    registry: registry.describe(),
    backend,
    pid: process.pid,
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info('shutting down: no new connections, answers say Connection: close, finishing in-flight requests', {
        drain_ms: DRAIN_MS,
        timeout_ms: config.shutdownTimeoutMs,
      });
      lifecycle.draining = true;
      // Stop accepting first: a new connection is then refused (ECONNREFUSED, which load balancers
      // and clients retry elsewhere) instead of accepted and reset when the listener closes later.
      // net.Server's close, not http.Server's: that one also closes idle keep-alive sockets at
      // once, racing with clients that are just sending on them (a reset).
      const done = new Promise<void>((resolve) => Server.prototype.close.call(server, () => resolve()));
      // During the drain every busy keep-alive client gets one answer with Connection: close, and
      // Node closes its socket after it; sockets still idle when it ends are closed then.
      let drainTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        done,
        new Promise((r) => (drainTimer = setTimeout(r, Math.min(DRAIN_MS, config.shutdownTimeoutMs)))),
      ]);
      clearTimeout(drainTimer);
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        log.warn('shutdown timeout: closing remaining connections');
        server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      timer.unref();
      await done;
      clearTimeout(timer);
      requestSummary.stop();
      drift.stop();
      await dedupe?.close();
      await manager.stop();
      log.info('stopped');
    })());
  return { url, server, manager, app, close };
}

/** The live-quality gauge's values: each metric of the feedback window, and its size as `samples`. */
function liveGauges(live: LiveMetrics | null): Record<string, number | null> | null {
  if (!live) return null;
  const { task: _task, n, ...values } = live;
  return { ...values, samples: n };
}

/**
 * Defaults from params.yaml (register.registry, register.model_name, drift) when the env does not
 * say. Without a params.yaml the env decides alone; a malformed one fails naming the bad key.
 */
export async function paramsDefaults(
  repoRoot: string,
): Promise<{ registryUrl?: string; modelName?: string; drift?: DriftParams }> {
  const path = join(repoRoot, 'params.yaml');
  if (!existsSync(path)) return {};
  const p = await loadParams(path);
  return { registryUrl: p.register?.registry, modelName: p.register?.model_name, drift: p.drift ?? DEFAULT_DRIFT };
}

async function main(beforeListen?: () => Promise<void>): Promise<void> {
  const defaults = await paramsDefaults(process.cwd());
  const config = loadConfig(process.env, defaults);
  if (config.workers > 1 && cluster.isPrimary) {
    const log = createLogger({
      component: 'api-primary',
      format: 'json',
      write: (l) => process.stdout.write(l + '\n'),
    });
    log.info(`starting ${config.workers} workers`);
    // Workers must sign with one key, or a label reaching another worker of this pod is refused.
    let workerEnv: Record<string, string> | undefined;
    if (!config.predictionIdKeys) {
      const key = randomSigningKey();
      workerEnv = { PREDICTION_ID_KEYS: formatSigningKey(key) };
      log.warn('PREDICTION_ID_KEYS is not set: the workers share a random key of this pod', {
        key_id: key.id,
        effect: 'POST /feedback joins only the ids this pod issued; other replicas answer 404',
        fix: 'set PREDICTION_ID_KEYS=<key id>:<secret> (the same on every replica, from a Secret; openssl rand -base64 32)',
      });
    }
    await beforeListen?.();
    serveClusterScrapes();
    const fork = () => cluster.fork(workerEnv);
    for (let i = 0; i < config.workers; i++) fork();
    let stopping = false;
    // A worker that dies after it listened is replaced; one that could not start (the port is in
    // use, a bad setting) would fail the same way again and again: stop, exit 1.
    const listened = new WeakSet<object>();
    cluster.on('listening', (w) => listened.add(w));
    cluster.on('exit', (w, code) => {
      if (stopping) return;
      if (!listened.has(w)) {
        log.error('a worker failed to start (its reason is logged above); stopping the others', {
          pid: w.process.pid,
          code,
        });
        process.exitCode = 1;
        stop();
        return;
      }
      log.warn('worker exited; starting a new one', { pid: w.process.pid, code });
      fork();
    });
    const stop = () => {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return;
  }
  const running = await startServer(config, {
    driftParams: defaults.drift,
    clusterWorker: cluster.isWorker,
    beforeListen,
  });
  const shutdown = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

export const SERVE_USAGE = `usage: [VAR=value …] npm run serve
  serve the registry's production model over HTTP until SIGTERM/SIGINT (JSON log lines on stdout).
  Configured by its environment, not by options; the main variables:
  HOST, PORT           where to listen (default: 127.0.0.1, 8080), e.g. PORT=8081 npm run serve
  REGISTRY_URL         the registry, a directory or gs://bucket/prefix (default: params.yaml register.registry)
  MODEL_NAME, MODEL_STAGE  the model and stage to serve (default: params.yaml register.model_name, production)
  API_TOKENS           comma-separated bearer tokens (16+ characters each); or PUBLIC_API=on for an open API
  WORKERS              processes (default: 1; auto: one per core, within a CPU quota)
  LOG_FORMAT, LOG_LEVEL  text for readable lines (default: json), debug for a line per request
  every variable and its default: docs/serving.md (Settings)
exit: 0 stopped by a signal, 1 failed to start (the reason is logged), 2 usage error`;

/**
 * Why the API could not start, as one log line: a port in use or not allowed says which and how to
 * choose another; anything else, its message.
 */
export function startFailure(err: unknown): { msg: string; fields: Record<string, unknown> } {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = e.port === undefined ? undefined : `${e.address ?? '0.0.0.0'}:${e.port}`;
  if (e?.code === 'EADDRINUSE')
    return {
      msg: `api failed to start: port ${e.port} is already in use${where ? ` (${where})` : ''}: another process listens there (an earlier \`npm run serve\` or \`npm start\` still running?)`,
      fields: {
        code: e.code,
        fix: `stop that process, or choose another port: PORT=${(e.port ?? 8080) + 1} npm run serve`,
      },
    };
  if ((e?.syscall === 'listen' || e?.syscall === 'bind') && e.code === 'EACCES')
    return {
      msg: `api failed to start: not allowed to listen on port ${e.port}${where ? ` (${where})` : ''}`,
      fields: { code: e.code, fix: 'choose a port above 1023: PORT=8080 npm run serve' },
    };
  if (e?.code === 'EADDRNOTAVAIL')
    return {
      msg: `api failed to start: HOST ${e.address} is not an address of this machine`,
      fields: { code: e.code, fix: 'set HOST to one of its addresses: 127.0.0.1 (this machine only) or 0.0.0.0 (all)' },
    };
  return { msg: `api failed to start: ${err instanceof Error ? err.message : String(err)}`, fields: {} };
}

if (isMain(import.meta.url)) {
  // Options are only --help (and -h): anything else is a usage error, before any work.
  let serve = false;
  const code = await defineCli({ name: 'serve', usage: SERVE_USAGE }, () => void (serve = true)).run(
    process.argv.slice(2),
  );
  if (!serve) process.exitCode = code;
  // `npm start` starts this process while the pipeline runs (training/early-api.ts): it warms up,
  // reads params.yaml and the registry once the model is registered, and listens once the
  // pipeline has succeeded.
  else
    waitForParent(() => selectBackend())
      .then((parent) => (parent ? main(() => parent.go()) : process.exit(0)))
      .catch((err) => {
        const { msg, fields } = startFailure(err);
        apiLogger((l) => process.stderr.write(l + '\n')).error(msg, fields);
        process.exit(1);
      });
}
