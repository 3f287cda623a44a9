/**
 * Deploy strategies for the flight-delay API (infra/k8s/overlays/{production,blue-green,canary}).
 * Pure decision logic: every kubectl call, HTTP request, Prometheus query and wait goes through
 * the injected DeployRunner (runner.ts).
 */
import { applyOverlay } from './apply.ts';
import { APP, CONTAINER, HTTP_PORT, type DeployContext } from './context.ts';
import type { DeployRunner, PromAnswer } from './runner.ts';

export { APP, CONTAINER, HTTP_PORT, type DeployContext } from './context.ts';

/** `planned`: a --dry-run, whose changes were recorded, not made (what would have been done: `would`). */
export type Outcome = 'deployed' | 'rolled-back' | 'aborted' | 'switched' | 'promoted' | 'failed' | 'planned';

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

const appOf = (ctx: DeployContext) => ctx.app ?? APP;
const setImage = (ctx: DeployContext, deploy: string, image: string) =>
  k(ctx, 'set', 'image', `deployment/${deploy}`, `${ctx.container ?? CONTAINER}=${image}`);
const rolloutStatus = (ctx: DeployContext, deploy: string, timeout = ctx.rolloutTimeout ?? '10m') =>
  k(ctx, 'rollout', 'status', `deployment/${deploy}`, `--timeout=${timeout}`);
const rolloutUndo = (ctx: DeployContext, deploy: string) => k(ctx, 'rollout', 'undo', `deployment/${deploy}`);
const scale = (ctx: DeployContext, deploy: string, replicas: number) =>
  k(ctx, 'scale', `deployment/${deploy}`, `--replicas=${replicas}`);

// ---------------------------------------------------------------- rolling

export async function rolling(ctx: DeployContext, image: string): Promise<DeployResult> {
  const base = { strategy: 'rolling' as const, image };
  const APP = appOf(ctx);
  const applied = await applyOverlay(ctx, image, [APP, `${APP}-preprod`]);
  if (!applied.ok) return { ...base, ok: false, outcome: 'failed', reason: applied.reason };
  const set = await setImage(ctx, APP, image);
  if (set.code !== 0) return { ...base, ok: false, outcome: 'failed', reason: `set image failed: ${fail(set)}` };
  ctx.runner.log(`waiting for deployment/${APP}`);
  const status = await rolloutStatus(ctx, APP);
  if (status.code === 0) return { ...base, ok: true, outcome: 'deployed' };
  ctx.runner.log(`rollout failed, undoing: ${fail(status)}`);
  const undo = await rolloutUndo(ctx, APP);
  return {
    ...base,
    ok: false,
    outcome: 'rolled-back',
    reason: `rollout did not complete: ${fail(status)}`,
    undone: undo.code === 0,
  };
}

// ---------------------------------------------------------------- smoke test

export interface SmokeResult {
  ok: boolean;
  reason?: string;
  modelVersion?: string;
}

/** /readyz 200, then predict the model's own default record (GET /v1/models/<name> inputs[].default) and expect a model version. */
export async function smokeTest(runner: DeployRunner, baseUrl: string, model: string): Promise<SmokeResult> {
  const ready = await runner.http('GET', `${baseUrl}/readyz`);
  if (ready.status !== 200) return { ok: false, reason: `/readyz answered ${ready.status}` };
  const info = await runner.http('GET', `${baseUrl}/v1/models/${model}`);
  const inputs = (info.json as { inputs?: unknown })?.inputs;
  if (info.status !== 200 || !Array.isArray(inputs))
    return { ok: false, reason: `model info answered ${info.status} without inputs` };
  const record: Record<string, unknown> = {};
  for (const i of inputs as { name?: unknown; default?: unknown }[])
    if (typeof i?.name === 'string') record[i.name] = i.default ?? null;
  const pred = await runner.http('POST', `${baseUrl}/v1/models/${model}:predict`, { instances: [record] });
  const body = pred.json as { model_version?: unknown; predictions?: unknown };
  if (pred.status !== 200)
    return { ok: false, reason: `predict answered ${pred.status}: ${JSON.stringify(pred.json)?.slice(0, 300)}` };
  const v = body?.model_version;
  if ((typeof v !== 'string' || v === '') && typeof v !== 'number')
    return { ok: false, reason: 'predict answer names no model_version' };
  if (!Array.isArray(body.predictions) || body.predictions.length !== 1)
    return { ok: false, reason: 'predict answer does not hold exactly one prediction' };
  return { ok: true, modelVersion: String(v) };
}

// ---------------------------------------------------------------- blue-green

const TRACKS = ['blue', 'green'] as const;
type Track = (typeof TRACKS)[number];
const other = (t: Track): Track => (t === 'blue' ? 'green' : 'blue');

async function liveTrack(ctx: DeployContext): Promise<{ track: Track } | { error: string; notFound?: boolean }> {
  const APP = appOf(ctx);
  const r = await k(ctx, 'get', 'service', APP, '-o', 'jsonpath={.spec.selector.track}');
  if (r.code !== 0)
    return { error: `cannot read Service ${APP}: ${fail(r)}`, notFound: /NotFound|not found/i.test(fail(r)) };
  const t = r.stdout.trim();
  if (!(TRACKS as readonly string[]).includes(t))
    return {
      error: `Service ${APP} selects track "${t}", expected blue or green (is the blue-green overlay applied?)`,
    };
  return { track: t as Track };
}

const switchService = (ctx: DeployContext, track: Track) =>
  k(ctx, 'patch', 'service', appOf(ctx), '--type', 'merge', '-p', JSON.stringify({ spec: { selector: { track } } }));

export async function blueGreen(ctx: DeployContext, image: string): Promise<DeployResult> {
  const base = { strategy: 'blue-green' as const, image };
  const APP = appOf(ctx);
  let live = await liveTrack(ctx);
  if ('error' in live && live.notFound && ctx.overlay) {
    // First install: nothing is live yet, so every track starts on this release.
    const first = await applyOverlay(ctx, image, [`${APP}-blue`, `${APP}-green`, `${APP}-preprod`]);
    if (!first.ok) return { ...base, ok: false, outcome: 'failed', reason: first.reason };
    live = await liveTrack(ctx);
  }
  if ('error' in live) return { ...base, ok: false, outcome: 'aborted', reason: live.error };
  const idle = other(live.track);
  const idleDeploy = `${APP}-${idle}`;
  const applied = await applyOverlay(ctx, image, [idleDeploy, `${APP}-preprod`], {
    keepServiceTrack: { service: APP, track: live.track },
  });
  if (!applied.ok)
    return {
      ...base,
      ok: false,
      outcome: 'aborted',
      reason: `${applied.reason}; live track ${live.track} untouched`,
      liveTrack: live.track,
    };
  const abort = async (reason: string, extra: Record<string, unknown> = {}): Promise<DeployResult> => {
    // Put the idle track back on its previous release: it is the instant-rollback target.
    const undo = await rolloutUndo(ctx, idleDeploy);
    return {
      ...base,
      ok: false,
      outcome: 'aborted',
      reason: `${reason}; live track ${live.track} untouched`,
      liveTrack: live.track,
      idleRestored: undo.code === 0,
      ...extra,
    };
  };
  ctx.runner.log(`live track ${live.track}; deploying ${image} to ${idleDeploy}`);
  const set = await setImage(ctx, idleDeploy, image);
  if (set.code !== 0)
    return {
      ...base,
      ok: false,
      outcome: 'aborted',
      reason: `set image on ${idleDeploy} failed: ${fail(set)}; live track ${live.track} untouched`,
      liveTrack: live.track,
    };
  const status = await rolloutStatus(ctx, idleDeploy);
  if (status.code !== 0) return abort(`${idleDeploy} did not become ready: ${fail(status)}`);

  let smoke: SmokeResult;
  if (ctx.baseUrl) smoke = await smokeTest(ctx.runner, ctx.baseUrl.replace(/\/$/, ''), ctx.model);
  else {
    let pf;
    try {
      pf = await ctx.runner.portForward(ctx.namespace, `deployment/${idleDeploy}`, HTTP_PORT);
    } catch (err) {
      return abort(`cannot reach ${idleDeploy} for the smoke test: ${(err as Error).message}`);
    }
    try {
      smoke = await smokeTest(ctx.runner, pf.baseUrl, ctx.model);
    } finally {
      await pf.close();
    }
  }
  if (!smoke.ok) return abort(`smoke test on ${idle} failed: ${smoke.reason}`, { smoke });

  const patch = await switchService(ctx, idle);
  if (patch.code !== 0)
    return {
      ...base,
      ok: false,
      outcome: 'aborted',
      reason: `switching Service ${APP} to ${idle} failed: ${fail(patch)}`,
      smoke,
    };
  ctx.runner.log(`Service ${APP} now selects track ${idle}; ${APP}-${live.track} keeps running for rollback`);
  return { ...base, ok: true, outcome: 'switched', switchedFrom: live.track, switchedTo: idle, smoke };
}

/** Switch the Service back to the other track, once that track's Deployment reports ready. */
export async function rollbackBlueGreen(ctx: DeployContext): Promise<DeployResult> {
  const base = { strategy: 'blue-green-rollback' as const };
  const APP = appOf(ctx);
  const live = await liveTrack(ctx);
  if ('error' in live) return { ...base, ok: false, outcome: 'failed', reason: live.error };
  const target = other(live.track);
  const status = await rolloutStatus(ctx, `${APP}-${target}`, '60s');
  if (status.code !== 0)
    return {
      ...base,
      ok: false,
      outcome: 'failed',
      reason: `${APP}-${target} is not ready, not switching: ${fail(status)}`,
    };
  const patch = await switchService(ctx, target);
  if (patch.code !== 0)
    return { ...base, ok: false, outcome: 'failed', reason: `switching Service failed: ${fail(patch)}` };
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
  /**
   * Verdict when no check of the whole window had canary data (no canary traffic, or metrics not
   * ingested yet): `rollback` (default: nothing proves the canary works) or `promote` (quiet
   * services, where no traffic means no evidence against it). Checks without data in a window
   * that has data elsewhere are skipped. A query *error* (unreachable, refused) always rolls back.
   */
  onNoData?: 'rollback' | 'promote';
}

export interface CanaryCheck {
  atMs: number;
  errorRatio: number | null;
  p99Ms: number | null;
  noData?: boolean;
}

export function canaryQueries(namespace: string, model: string, rateWindow = '2m') {
  const predictRoutes = `/predict|/v1/models/${model}:predict`;
  const sel = `namespace="${namespace}",track="canary",route=~"${predictRoutes}"`;
  return {
    // `or vector(0)`: no 5xx series means no errors; no requests at all leaves the ratio empty (no data).
    errorRatio: `(sum(rate(http_requests_total{${sel},status=~"5.."}[${rateWindow}])) or vector(0)) / sum(rate(http_requests_total{${sel}}[${rateWindow}]))`,
    p99Seconds: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[${rateWindow}])))`,
  };
}

const valueOf = (a: PromAnswer) => (a.kind === 'value' ? a.value : null);

export async function canary(ctx: DeployContext, image: string, opts: CanaryOptions): Promise<DeployResult> {
  const base = { strategy: 'canary' as const, image };
  const APP = appOf(ctx);
  const canaryDeploy = `${APP}-canary`;
  const checks: CanaryCheck[] = [];
  const rollBack = async (reason: string): Promise<DeployResult> => {
    ctx.runner.log(`rolling back canary: ${reason}`);
    const s = await scale(ctx, canaryDeploy, 0);
    return { ...base, ok: false, outcome: 'rolled-back', reason, canaryScaledDown: s.code === 0, checks };
  };

  const applied = await applyOverlay(ctx, image, [canaryDeploy, `${APP}-preprod`]);
  if (!applied.ok) return { ...base, ok: false, outcome: 'failed', reason: applied.reason };
  const set = await setImage(ctx, canaryDeploy, image);
  if (set.code !== 0)
    return { ...base, ok: false, outcome: 'failed', reason: `set image on ${canaryDeploy} failed: ${fail(set)}` };
  const up = await scale(ctx, canaryDeploy, 1); // a previous rollback leaves it at 0
  if (up.code !== 0) return rollBack(`cannot scale ${canaryDeploy} to 1: ${fail(up)}`);
  const ready = await rolloutStatus(ctx, canaryDeploy);
  if (ready.code !== 0) return rollBack(`${canaryDeploy} did not become ready: ${fail(ready)}`);

  const q = canaryQueries(ctx.namespace, ctx.model, opts.rateWindow);
  const interval = Math.max(1, Math.min(opts.intervalMs ?? 30_000, opts.windowMs));
  for (let elapsed = 0; elapsed < opts.windowMs;) {
    await ctx.runner.sleep(interval);
    elapsed += interval;
    const [ratio, p99] = await Promise.all([ctx.runner.promQuery(q.errorRatio), ctx.runner.promQuery(q.p99Seconds)]);
    const failed = [ratio, p99].find((a) => a.kind === 'error');
    const errorRatio = valueOf(ratio);
    const p99Ms = valueOf(p99) === null ? null : valueOf(p99)! * 1000;
    if (failed?.kind === 'error') {
      checks.push({ atMs: elapsed, errorRatio, p99Ms });
      return rollBack(`Prometheus query failed at ${elapsed} ms, not judging the canary blind: ${failed.message}`);
    }
    if (errorRatio === null || p99Ms === null) {
      checks.push({ atMs: elapsed, errorRatio, p99Ms, noData: true });
      ctx.runner.log(
        `no canary data at ${elapsed}/${opts.windowMs} ms (no requests to track=canary in namespace ${ctx.namespace} yet)`,
      );
      continue;
    }
    checks.push({ atMs: elapsed, errorRatio, p99Ms });
    if (errorRatio > opts.maxErrorRatio)
      return rollBack(`error ratio ${errorRatio.toFixed(4)} > ${opts.maxErrorRatio} at ${elapsed} ms`);
    if (p99Ms > opts.maxP99Ms)
      return rollBack(`p99 latency ${p99Ms.toFixed(0)} ms > ${opts.maxP99Ms} ms at ${elapsed} ms`);
    ctx.runner.log(
      `canary ok at ${elapsed}/${opts.windowMs} ms: error ratio ${errorRatio}, p99 ${p99Ms.toFixed(0)} ms`,
    );
  }

  let warning: string | undefined;
  if (checks.every((c) => c.noData)) {
    const why = `no canary data in Prometheus during the whole ${opts.windowMs} ms window (${checks.length} checks): no requests reached track=canary in namespace ${ctx.namespace}, or its metrics are not ingested`;
    if ((opts.onNoData ?? 'rollback') === 'rollback')
      return rollBack(
        `${why}; verdict rollback (--on-no-data rollback). Send traffic during the window, lengthen it, or pass --on-no-data promote for a quiet service`,
      );
    warning = `${why}; promoted anyway (--on-no-data promote)`;
    ctx.runner.log(warning);
  } else ctx.runner.log(`canary window clean; promoting ${image} to ${APP}`);
  const promote = await setImage(ctx, APP, image);
  if (promote.code !== 0) return rollBack(`canary was clean but set image on ${APP} failed: ${fail(promote)}`);
  const stable = await rolloutStatus(ctx, APP);
  if (stable.code !== 0) {
    const undo = await rolloutUndo(ctx, APP);
    const r = await rollBack(`canary was clean but ${APP} did not roll out: ${fail(stable)}`);
    return { ...r, stableUndone: undo.code === 0 };
  }
  const down = await scale(ctx, canaryDeploy, 0);
  return {
    ...base,
    ok: true,
    outcome: 'promoted',
    checks,
    canaryScaledDown: down.code === 0,
    ...(warning ? { warning } : {}),
  };
}
