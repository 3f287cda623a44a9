/**
 * Deploy strategies for the flight-delay API (infra/k8s/overlays/{production,blue-green,canary}).
 * Pure decision logic: every kubectl call, HTTP request, Prometheus query and wait goes through
 * the injected DeployRunner (runner.ts).
 */
import type { DeployRunner } from './runner.ts';

export const APP = 'flight-delay-api';
export const MODEL = 'flight-delay';
export const CONTAINER = 'api';
export const HTTP_PORT = 8080;

export interface DeployContext {
  runner: DeployRunner;
  namespace: string;
  /** `kubectl rollout status --timeout` (the Deployments' progressDeadlineSeconds is 10 min). */
  rolloutTimeout?: string;
  /** Smoke-test this URL instead of port-forwarding to the idle track (e.g. a preview Service). */
  baseUrl?: string;
}

export type Outcome = 'deployed' | 'rolled-back' | 'aborted' | 'switched' | 'promoted' | 'failed';

export interface DeployResult {
  strategy: 'rolling' | 'blue-green' | 'blue-green-rollback' | 'canary';
  image?: string;
  ok: boolean;
  outcome: Outcome;
  reason?: string;
  switchedFrom?: string;
  switchedTo?: string;
  smoke?: SmokeResult;
  checks?: CanaryCheck[];
  [extra: string]: unknown;
}

const fail = (r: { stderr: string; stdout: string }) => (r.stderr || r.stdout).trim();

async function k(ctx: DeployContext, ...args: string[]) {
  return ctx.runner.kubectl(['-n', ctx.namespace, ...args]);
}

const setImage = (ctx: DeployContext, deploy: string, image: string) => k(ctx, 'set', 'image', `deployment/${deploy}`, `${CONTAINER}=${image}`);
const rolloutStatus = (ctx: DeployContext, deploy: string, timeout = ctx.rolloutTimeout ?? '10m') => k(ctx, 'rollout', 'status', `deployment/${deploy}`, `--timeout=${timeout}`);
const rolloutUndo = (ctx: DeployContext, deploy: string) => k(ctx, 'rollout', 'undo', `deployment/${deploy}`);
const scale = (ctx: DeployContext, deploy: string, replicas: number) => k(ctx, 'scale', `deployment/${deploy}`, `--replicas=${replicas}`);

// ---------------------------------------------------------------- rolling

export async function rolling(ctx: DeployContext, image: string): Promise<DeployResult> {
  const base = { strategy: 'rolling' as const, image };
  const set = await setImage(ctx, APP, image);
  if (set.code !== 0) return { ...base, ok: false, outcome: 'failed', reason: `set image failed: ${fail(set)}` };
  ctx.runner.log(`waiting for deployment/${APP}`);
  const status = await rolloutStatus(ctx, APP);
  if (status.code === 0) return { ...base, ok: true, outcome: 'deployed' };
  ctx.runner.log(`rollout failed, undoing: ${fail(status)}`);
  const undo = await rolloutUndo(ctx, APP);
  return { ...base, ok: false, outcome: 'rolled-back', reason: `rollout did not complete: ${fail(status)}`, undone: undo.code === 0 };
}

// ---------------------------------------------------------------- smoke test

export interface SmokeResult { ok: boolean; reason?: string; modelVersion?: string }

/** /readyz 200, then predict the model's own default record (GET /v1/models/<name> inputs[].default) and expect a model version. */
export async function smokeTest(runner: DeployRunner, baseUrl: string): Promise<SmokeResult> {
  const ready = await runner.http('GET', `${baseUrl}/readyz`);
  if (ready.status !== 200) return { ok: false, reason: `/readyz answered ${ready.status}` };
  const info = await runner.http('GET', `${baseUrl}/v1/models/${MODEL}`);
  const inputs = (info.json as { inputs?: unknown })?.inputs;
  if (info.status !== 200 || !Array.isArray(inputs)) return { ok: false, reason: `model info answered ${info.status} without inputs` };
  const record: Record<string, unknown> = {};
  for (const i of inputs as { name?: unknown; default?: unknown }[]) if (typeof i?.name === 'string') record[i.name] = i.default ?? null;
  const pred = await runner.http('POST', `${baseUrl}/v1/models/${MODEL}:predict`, { instances: [record] });
  const body = pred.json as { model_version?: unknown; predictions?: unknown };
  if (pred.status !== 200) return { ok: false, reason: `predict answered ${pred.status}: ${JSON.stringify(pred.json)?.slice(0, 300)}` };
  const v = body?.model_version;
  if ((typeof v !== 'string' || v === '') && typeof v !== 'number') return { ok: false, reason: 'predict answer names no model_version' };
  if (!Array.isArray(body.predictions) || body.predictions.length !== 1) return { ok: false, reason: 'predict answer does not hold exactly one prediction' };
  return { ok: true, modelVersion: String(v) };
}

// ---------------------------------------------------------------- blue-green

const TRACKS = ['blue', 'green'] as const;
type Track = (typeof TRACKS)[number];
const other = (t: Track): Track => (t === 'blue' ? 'green' : 'blue');

async function liveTrack(ctx: DeployContext): Promise<{ track: Track } | { error: string }> {
  const r = await k(ctx, 'get', 'service', APP, '-o', 'jsonpath={.spec.selector.track}');
  if (r.code !== 0) return { error: `cannot read Service ${APP}: ${fail(r)}` };
  const t = r.stdout.trim();
  if (!(TRACKS as readonly string[]).includes(t)) return { error: `Service ${APP} selects track "${t}", expected blue or green (is the blue-green overlay applied?)` };
  return { track: t as Track };
}

const switchService = (ctx: DeployContext, track: Track) =>
  k(ctx, 'patch', 'service', APP, '--type', 'merge', '-p', JSON.stringify({ spec: { selector: { track } } }));

export async function blueGreen(ctx: DeployContext, image: string): Promise<DeployResult> {
  const base = { strategy: 'blue-green' as const, image };
  const live = await liveTrack(ctx);
  if ('error' in live) return { ...base, ok: false, outcome: 'aborted', reason: live.error };
  const idle = other(live.track);
  const idleDeploy = `${APP}-${idle}`;
  const abort = async (reason: string, extra: Record<string, unknown> = {}): Promise<DeployResult> => {
    // Put the idle track back on its previous release: it is the instant-rollback target.
    const undo = await rolloutUndo(ctx, idleDeploy);
    return { ...base, ok: false, outcome: 'aborted', reason: `${reason}; live track ${live.track} untouched`, liveTrack: live.track, idleRestored: undo.code === 0, ...extra };
  };
  ctx.runner.log(`live track ${live.track}; deploying ${image} to ${idleDeploy}`);
  const set = await setImage(ctx, idleDeploy, image);
  if (set.code !== 0) return { ...base, ok: false, outcome: 'aborted', reason: `set image on ${idleDeploy} failed: ${fail(set)}; live track ${live.track} untouched`, liveTrack: live.track };
  const status = await rolloutStatus(ctx, idleDeploy);
  if (status.code !== 0) return abort(`${idleDeploy} did not become ready: ${fail(status)}`);

  let smoke: SmokeResult;
  if (ctx.baseUrl) smoke = await smokeTest(ctx.runner, ctx.baseUrl.replace(/\/$/, ''));
  else {
    let pf;
    try {
      pf = await ctx.runner.portForward(ctx.namespace, `deployment/${idleDeploy}`, HTTP_PORT);
    } catch (err) {
      return abort(`cannot reach ${idleDeploy} for the smoke test: ${(err as Error).message}`);
    }
    try {
      smoke = await smokeTest(ctx.runner, pf.baseUrl);
    } finally {
      await pf.close();
    }
  }
  if (!smoke.ok) return abort(`smoke test on ${idle} failed: ${smoke.reason}`, { smoke });

  const patch = await switchService(ctx, idle);
  if (patch.code !== 0) return { ...base, ok: false, outcome: 'aborted', reason: `switching Service ${APP} to ${idle} failed: ${fail(patch)}`, smoke };
  ctx.runner.log(`Service ${APP} now selects track ${idle}; ${APP}-${live.track} keeps running for rollback`);
  return { ...base, ok: true, outcome: 'switched', switchedFrom: live.track, switchedTo: idle, smoke };
}

/** Switch the Service back to the other track, once that track's Deployment reports ready. */
export async function rollbackBlueGreen(ctx: DeployContext): Promise<DeployResult> {
  const base = { strategy: 'blue-green-rollback' as const };
  const live = await liveTrack(ctx);
  if ('error' in live) return { ...base, ok: false, outcome: 'failed', reason: live.error };
  const target = other(live.track);
  const status = await rolloutStatus(ctx, `${APP}-${target}`, '60s');
  if (status.code !== 0) return { ...base, ok: false, outcome: 'failed', reason: `${APP}-${target} is not ready, not switching: ${fail(status)}` };
  const patch = await switchService(ctx, target);
  if (patch.code !== 0) return { ...base, ok: false, outcome: 'failed', reason: `switching Service failed: ${fail(patch)}` };
  return { ...base, ok: true, outcome: 'switched', switchedFrom: live.track, switchedTo: target };
}

// ---------------------------------------------------------------- canary

export interface CanaryOptions {
  windowMs: number;
  maxErrorRatio: number;
  maxP99Ms: number;
  /** Time between Prometheus checks (default 30 s, at most windowMs). */
  intervalMs?: number;
  /** PromQL rate() range (default 2m: at least 4 scrapes at the 15 s PodMonitoring interval). */
  rateWindow?: string;
}

export interface CanaryCheck { atMs: number; errorRatio: number | null; p99Ms: number | null }

const PREDICT_ROUTES = `/predict|/v1/models/${MODEL}:predict`;

export function canaryQueries(namespace: string, rateWindow = '2m') {
  const sel = `namespace="${namespace}",track="canary",route=~"${PREDICT_ROUTES}"`;
  return {
    // `or vector(0)`: no 5xx series means no errors; no requests at all leaves the ratio empty (→ null).
    errorRatio: `(sum(rate(http_requests_total{${sel},status=~"5.."}[${rateWindow}])) or vector(0)) / sum(rate(http_requests_total{${sel}}[${rateWindow}]))`,
    p99Seconds: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[${rateWindow}])))`,
  };
}

export async function canary(ctx: DeployContext, image: string, opts: CanaryOptions): Promise<DeployResult> {
  const base = { strategy: 'canary' as const, image };
  const canaryDeploy = `${APP}-canary`;
  const checks: CanaryCheck[] = [];
  const rollBack = async (reason: string): Promise<DeployResult> => {
    ctx.runner.log(`rolling back canary: ${reason}`);
    const s = await scale(ctx, canaryDeploy, 0);
    return { ...base, ok: false, outcome: 'rolled-back', reason, canaryScaledDown: s.code === 0, checks };
  };

  const set = await setImage(ctx, canaryDeploy, image);
  if (set.code !== 0) return { ...base, ok: false, outcome: 'failed', reason: `set image on ${canaryDeploy} failed: ${fail(set)}` };
  const up = await scale(ctx, canaryDeploy, 1); // a previous rollback leaves it at 0
  if (up.code !== 0) return rollBack(`cannot scale ${canaryDeploy} to 1: ${fail(up)}`);
  const ready = await rolloutStatus(ctx, canaryDeploy);
  if (ready.code !== 0) return rollBack(`${canaryDeploy} did not become ready: ${fail(ready)}`);

  const q = canaryQueries(ctx.namespace, opts.rateWindow);
  const interval = Math.max(1, Math.min(opts.intervalMs ?? 30_000, opts.windowMs));
  for (let elapsed = 0; elapsed < opts.windowMs;) {
    await ctx.runner.sleep(interval);
    elapsed += interval;
    const [errorRatio, p99s] = await Promise.all([ctx.runner.promQuery(q.errorRatio), ctx.runner.promQuery(q.p99Seconds)]);
    const p99Ms = p99s === null ? null : p99s * 1000;
    checks.push({ atMs: elapsed, errorRatio, p99Ms });
    // Safe default: no answer (Prometheus down, query error, or no canary traffic) is a failure, not a pass.
    if (errorRatio === null || p99Ms === null) {
      return rollBack(`no metrics for the canary (${errorRatio === null ? 'error ratio' : 'p99'} query returned nothing: Prometheus unavailable or no canary traffic); treated as failure`);
    }
    if (errorRatio > opts.maxErrorRatio) return rollBack(`error ratio ${errorRatio.toFixed(4)} > ${opts.maxErrorRatio} at ${elapsed} ms`);
    if (p99Ms > opts.maxP99Ms) return rollBack(`p99 latency ${p99Ms.toFixed(0)} ms > ${opts.maxP99Ms} ms at ${elapsed} ms`);
    ctx.runner.log(`canary ok at ${elapsed}/${opts.windowMs} ms: error ratio ${errorRatio}, p99 ${p99Ms.toFixed(0)} ms`);
  }

  ctx.runner.log(`canary window clean; promoting ${image} to ${APP}`);
  const promote = await setImage(ctx, APP, image);
  if (promote.code !== 0) return rollBack(`canary was clean but set image on ${APP} failed: ${fail(promote)}`);
  const stable = await rolloutStatus(ctx, APP);
  if (stable.code !== 0) {
    const undo = await rolloutUndo(ctx, APP);
    const r = await rollBack(`canary was clean but ${APP} did not roll out: ${fail(stable)}`);
    return { ...r, stableUndone: undo.code === 0 };
  }
  const down = await scale(ctx, canaryDeploy, 0);
  return { ...base, ok: true, outcome: 'promoted', checks, canaryScaledDown: down.code === 0 };
}
