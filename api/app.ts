/**
 * The Koa application, assembled from small parts like koa itself: observe (ids, errors, metrics,
 * logs) → route match → auth → bounded body → handler. Dependencies are passed in, so tests build
 * an app around any registry, clock or model.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa from 'koa';
import type { Logger } from '../core/platform/log.ts';
import type { ApiConfig } from './config.ts';
import type { ModelManager } from './model-manager.ts';
import type { Batcher } from './batcher.ts';
import type { ApiMetrics } from './prometheus.ts';
import { HttpError } from './errors.ts';
import { observe, requestObserver, type RequestState } from './middleware/observe.ts';
import { predictLane, type LaneRoute } from './predict-lane.ts';
import type { RequestSummary } from './middleware/request-summary.ts';
import { readJsonBody } from './middleware/body.ts';
import { accessChecks, authorize, type Access } from './middleware/auth.ts';
import { predictMany, predictOne } from './routes/predict.ts';
import { modelInfo } from './routes/info.ts';
import { asV2Error, infer, v2ModelMetadata, v2Server } from './routes/v2.ts';
import { feedbackSummary, postFeedback, type FeedbackDeps } from './routes/feedback.ts';
import { FLEET_VIEW } from './fleet-view.ts';
import { openApiDocument } from './openapi.ts';
import { UI_CONTENT_SECURITY_POLICY } from './ui/page.ts';
import { MONITORING_CSP, renderMonitoringHtml } from './ui/monitoring.ts';
import type { DriftMonitor } from './drift-monitor.ts';
import { cachedRead, singleFlight } from './read-cache.ts';
import type { RefreshResult } from './model-manager.ts';

export interface AppDeps {
  config: ApiConfig;
  manager: ModelManager;
  batcher: Batcher;
  metrics: ApiMetrics;
  log: Logger;
  renderUi?: (opts: { modelName: string }) => string;
  /** dedupe: the shared store that refuses a repeat on any replica (FEEDBACK_DEDUPE_URL); null: per replica. */
  feedback: Pick<FeedbackDeps, 'ids' | 'seen' | 'window' | 'fleet' | 'dedupe'>;

  drift?: DriftMonitor;
  /** Set by the server when shutdown begins. */
  lifecycle?: { draining: boolean };
  /** Counts requests for the info-level summary line (per-request lines are at debug). */
  requestSummary?: RequestSummary;
  /** The /metrics text; by default this process's registry (a cluster worker asks the primary for the pod's sum). */
  scrapeText?: () => Promise<string>;
}

const METRICS_TEXT_MAX_AGE_MS = 200;

/** A refused reload is not a success: 503 when the registry cannot be read, 409 for a refused bundle or no version. */
export function reloadStatus(r: RefreshResult): number {
  if (r.status === 'refused') return r.cause === 'registry' ? 503 : 409;
  return r.status === 'no-version' ? 409 : 200;
}
interface Route {
  method: 'GET' | 'POST';
  template: string;
  access: Access;
  body?: boolean;
  handle: (ctx: Koa.Context, body: unknown) => Promise<void> | void;
}

/** The routes an app answers (method and path), as createApp registered them: what GET /openapi.json must describe. */
export type RouteInfo = Pick<Route, 'method' | 'template' | 'access'>;
const registered = new WeakMap<Koa, readonly RouteInfo[]>();
export function routesOf(app: Koa): readonly RouteInfo[] {
  const routes = registered.get(app);
  if (!routes) throw new Error('routesOf: not an app made by createApp');
  return routes;
}

const lanes = new WeakMap<Koa, ReturnType<typeof predictLane>>();

/**
 * The request listener to serve an app made by createApp with: its predict lane for the
 * prediction routes, Koa for everything else. Koa's handler settles its own promise: it answers
 * errors through app.onerror and never rejects.
 */
export function requestListener(app: Koa): (req: IncomingMessage, res: ServerResponse) => void {
  const lane = lanes.get(app);
  const handle = app.callback();
  if (!lane) return (req, res) => void handle(req, res);
  return (req, res) => {
    if (!lane(req, res)) void handle(req, res);
  };
}

export function createApp(deps: AppDeps): Koa {
  const { config, manager, batcher, metrics, log } = deps;
  const name = config.modelName;
  const predictDeps = { batcher, metrics, maxInstances: config.maxInstances, ids: deps.feedback.ids };
  const feedbackDeps = { ...deps.feedback, ttlMs: config.feedbackTtlMs, manager, metrics };
  // Expensive reads are computed (and serialised) at most once per MONITORING_CACHE_MS.
  const summary = cachedRead(() => feedbackSummary(feedbackDeps), config.monitoringCacheMs);
  const summaryJson = cachedRead(() => JSON.stringify(summary()), config.monitoringCacheMs);
  const driftJson = cachedRead(
    () =>
      JSON.stringify({
        scope: FLEET_VIEW.replica,
        fleet: FLEET_VIEW.drift,
        // model_version is what the windows judge (null before any traffic); this is what serves now.
        served_model_version: manager.current?.version ?? null,
        ...deps.drift?.compute(),
      }),
    config.monitoringCacheMs,
  );
  // The /metrics text for at most 200 ms: Prometheus scraping every second must still see every
  // scrape's counters move (two scrapes with the same text make rate() 0 and ratios 0/0).
  const scrape = cachedRead(
    singleFlight(deps.scrapeText ?? (() => metrics.registry.metrics())),
    Math.min(config.monitoringCacheMs, METRICS_TEXT_MAX_AGE_MS),
  );
  const json = (ctx: Koa.Context, text: string) => {
    ctx.type = 'json';
    ctx.body = text;
  };
  const checks = accessChecks(config);
  const isReady = () => {
    const m = manager.current;
    return m !== null && !m.unhealthy && !lifecycle.draining;
  };

  // The prediction routes: answered by the predict lane (predict-lane.ts), and by Koa for any
  // listener that does not use requestListener (the same handlers either way).
  const predictRoutes: LaneRoute[] = [
    { template: '/predict', access: 'predict', handle: (reply, body) => predictOne(reply, body, predictDeps) },
    {
      template: `/v1/models/${name}:predict`,
      access: 'predict',
      handle: (reply, body) => predictMany(reply, body, predictDeps),
    },
  ];
  const routes: Route[] = [
    ...predictRoutes.map((r) => ({ method: 'POST' as const, body: true, ...r })),
    {
      method: 'POST',
      template: '/feedback',
      access: 'predict',
      body: true,
      handle: (ctx, body) => postFeedback(ctx, body, feedbackDeps),
    },
    { method: 'GET', template: '/feedback', access: 'monitoring', handle: (ctx) => json(ctx, summaryJson()) },
    {
      method: 'GET',
      template: '/drift',
      access: 'monitoring',
      handle: (ctx) => {
        if (!deps.drift) throw new HttpError(404, 'not_found', 'monitoring is off (MONITORING=off)');
        json(ctx, driftJson());
      },
    },
    {
      method: 'GET',
      template: '/monitoring',
      access: 'public',
      handle: (ctx) => {
        ctx.type = 'html';
        ctx.set('Content-Security-Policy', MONITORING_CSP);
        ctx.body = renderMonitoringHtml({ modelName: name });
      },
    },
    {
      method: 'GET',
      template: `/v1/models/${name}`,
      access: 'public',
      handle: (ctx) => void (ctx.body = modelInfo(manager, name)),
    },
    { method: 'GET', template: '/healthz', access: 'public', handle: (ctx) => void (ctx.body = { status: 'alive' }) },
    // KServe V1's model list: one server, one model.
    { method: 'GET', template: '/v1/models', access: 'public', handle: (ctx) => void (ctx.body = { models: [name] }) },
    // Open Inference Protocol (KServe V2): api/routes/v2.ts.
    { method: 'GET', template: '/v2/health/live', access: 'public', handle: (ctx) => void (ctx.body = { live: true }) },
    {
      method: 'GET',
      template: '/v2/health/ready',
      access: 'public',
      handle: (ctx) => {
        const ready = isReady();
        ctx.status = ready ? 200 : 503;
        ctx.body = { ready };
      },
    },
    { method: 'GET', template: '/v2', access: 'public', handle: (ctx) => void (ctx.body = v2Server()) },
    { method: 'GET', template: '/v2/', access: 'public', handle: (ctx) => void (ctx.body = v2Server()) },
    {
      method: 'GET',
      template: `/v2/models/${name}`,
      access: 'public',
      handle: (ctx) => asV2Error(ctx, () => void (ctx.body = v2ModelMetadata(manager, name))),
    },
    {
      method: 'GET',
      template: `/v2/models/${name}/ready`,
      access: 'public',
      handle: (ctx) => {
        const ready = isReady();
        ctx.status = ready ? 200 : 503;
        ctx.body = { name, ready };
      },
    },
    {
      method: 'POST',
      template: `/v2/models/${name}/infer`,
      access: 'predict',
      body: true,
      handle: (ctx, body) => infer(ctx, body, predictDeps, manager),
    },
    {
      method: 'GET',
      template: '/readyz',
      access: 'public',
      handle: (ctx) => {
        const m = manager.current;
        const ready = isReady();
        ctx.status = ready ? 200 : 503;
        ctx.body =
          ready && m
            ? { status: 'ready', model: name, version: m.version }
            : {
                status: 'not ready',
                reason: lifecycle.draining
                  ? 'shutting down'
                  : (m?.unhealthy ?? manager.lastError ?? 'loading the model'),
              };
      },
    },
    {
      method: 'GET',
      template: '/metrics',
      access: 'metrics',
      handle: async (ctx) => {
        ctx.type = metrics.registry.contentType;
        ctx.body = await scrape();
      },
    },
    {
      method: 'GET',
      template: '/openapi.json',
      access: 'public',
      handle: (ctx) => {
        const m = manager.current;
        if (!m)
          throw new HttpError(
            503,
            'model_not_ready',
            'the OpenAPI document is generated from the served model; no model is loaded yet',
          );
        ctx.body = openApiDocument({
          modelName: name,
          version: m.version,
          task: m.bundle.meta.task,
          ...(m.bundle.classes ? { classes: m.bundle.classes } : {}),
          ...(m.bundle.spec.target.positive_class !== undefined
            ? { positiveClass: m.bundle.spec.target.positive_class }
            : {}),
          schema: m.bundle.meta.input_schema,
          ...(m.bundle.meta.target_range ? { targetRange: m.bundle.meta.target_range } : {}),
          maxInstances: config.maxInstances,
          auth: checks.predict !== null,
          monitoringAuth: checks.monitoring !== null,
        });
      },
    },
    {
      method: 'POST',
      template: '/admin/reload',
      access: 'admin',
      handle: async (ctx) => {
        const result = await manager.refresh(true);
        ctx.status = reloadStatus(result);
        ctx.body = result;
      },
    },
    {
      method: 'GET',
      template: '/',
      access: 'public',
      handle: (ctx) => {
        ctx.type = 'html';
        // The page's one inline script and stylesheet are allowed by hash, nothing else from anywhere.
        ctx.set('Content-Security-Policy', UI_CONTENT_SECURITY_POLICY);
        ctx.body = deps.renderUi
          ? deps.renderUi({ modelName: name })
          : `<!doctype html><title>${name}</title><p>POST /predict or see <a href="/openapi.json">/openapi.json</a>.</p>`;
      },
    },
  ];
  const byKey = new Map(routes.map((r) => [`${r.method} ${r.template}`, r]));
  const methodsOf = new Map<string, string[]>();
  for (const r of routes)
    methodsOf.set(r.template, [
      ...(methodsOf.get(r.template) ?? []),
      r.method,
      ...(r.method === 'GET' ? ['HEAD'] : []),
    ]);

  const app = new Koa({ proxy: false });
  registered.set(
    app,
    routes.map(({ method, template, access }) => ({ method, template, access })),
  );
  app.silent = true;
  const lifecycle = deps.lifecycle ?? { draining: false };
  const observer = requestObserver(metrics, log, () => lifecycle.draining, deps.requestSummary);
  // The prediction routes' lane runs these same steps without Koa: a middleware added here for
  // every route belongs in predict-lane.ts too.
  lanes.set(app, predictLane(predictRoutes, observer, checks, config.bodyLimitBytes));
  app.use(observe(observer));
  app.use(async (ctx) => {
    // HEAD is GET without the body (Koa and Node drop it).
    const route = byKey.get(`${ctx.method === 'HEAD' ? 'GET' : ctx.method} ${ctx.path}`);
    if (!route) {
      const allow = methodsOf.get(ctx.path)?.concat('OPTIONS').join(', ');
      if (allow && ctx.method === 'OPTIONS') {
        ctx.set('Allow', allow);
        ctx.status = 204;
        return;
      }
      if (allow) {
        ctx.set('Allow', allow);
        throw new HttpError(405, 'method_not_allowed', `${ctx.method} is not supported on ${ctx.path}; use ${allow}`);
      }
      const hint = ctx.path.startsWith('/v1/models/')
        ? ` (this server serves model "${name}": /v1/models/${name}:predict)`
        : '';
      throw new HttpError(404, 'not_found', `no route ${ctx.method} ${ctx.path}${hint}`);
    }
    (ctx.state as RequestState).route = route.template;
    authorize(route.access, ctx.req.headers, checks);
    let body: unknown;
    if (route.body) {
      body = await readJsonBody(ctx.req, config.bodyLimitBytes);
      (ctx.state as RequestState).bodyBytes = Number(ctx.get('content-length')) || 0;
    }
    await route.handle(ctx, body);
  });
  return app;
}
