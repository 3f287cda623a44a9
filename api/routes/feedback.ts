/**
 * `POST /feedback`: `{"prediction_id": "...", "actual": 37}` (target units, e.g. delay minutes) or,
 * for classification, `{"prediction_id": "...", "label": 1}`; up to 1,000 at once as
 * `{"feedback": [ ... ]}`. `GET /feedback`: live quality over the recent window.
 */
import type Koa from 'koa';
import { HttpError, badRequest } from '../errors.ts';
import type { FeedbackWindow, SeenIds } from '../feedback.ts';
import { CLOCK_SKEW_MS, claimKey, type ClaimOutcome, type DedupeStore } from '../feedback-dedupe.ts';
import { liveMetrics } from '../feedback.ts';
import { MAX_PREDICTION_ID_CHARS, type PredictionClaims, type PredictionIdSigner } from '../prediction-id.ts';
import type { FleetQuality } from '../fleet-metrics.ts';
import { FLEET_VIEW } from '../fleet-view.ts';
import type { ModelManager } from '../model-manager.ts';
import { childCache, histogramChild, type ApiMetrics } from '../prometheus.ts';

/** model_prediction_error's child per model: the same counting rule as model_prediction_value's. */
const errorHistograms = new WeakMap<ApiMetrics, (model: string) => { observe(v: number): void }>();
function errorHistogram(metrics: ApiMetrics, model: string) {
  let of = errorHistograms.get(metrics);
  if (!of)
    errorHistograms.set(metrics, (of = childCache((m) => histogramChild(metrics.predictionError, { model: m }))));
  return of(model);
}
import { describe } from '../../core/data/records.ts';
import { decisionThreshold } from '../../core/model/decision.ts';
import { feedbackClass, liveMulticlass } from '../multiclass.ts';

export interface FeedbackDeps {
  ids: PredictionIdSigner;
  /** Ids this replica joined or saw refused: a repeat that reaches it again is refused (409) without asking the store. */
  seen: SeenIds;
  /** Claims shared by every replica (FEEDBACK_DEDUPE_URL): a repeat reaching any replica is refused. Absent: `seen` only. */
  dedupe?: DedupeStore | null;
  /** Labels are accepted this long after the prediction (FEEDBACK_TTL_MS). */
  ttlMs: number;
  window: FeedbackWindow;
  fleet: FleetQuality;
  now?: () => number;
  manager: ModelManager;
  metrics: ApiMetrics;
}

/** The most labels one request takes. */
export const MAX_FEEDBACK_ITEMS = 1000;
/** Seconds a client waits before retrying a label the dedupe store could not decide. */
export const DEDUPE_RETRY_AFTER_S = 1;

interface ItemResult {
  index: number;
  prediction_id?: string;
  status: number;
  error?: string;
  model_version?: number;
  predicted?: number;
  actual?: number;
  /** Multi-class: the class names of `predicted` and `actual`. */
  predicted_label?: string;
  actual_label?: string;
}

/** A verified, unexpired label waiting for its claim. */
interface Candidate {
  index: number;
  id: string;
  keyId: string;
  outcome: number;
  claims: PredictionClaims;
}

function toLabelOrValue(item: Record<string, unknown>, manager: ModelManager): number {
  const m = manager.current;
  const task = m?.bundle.meta.task ?? 'classification';
  const named = m && (m.bundle.spec.target.classes || m.bundle.spec.target.positive_class !== undefined);
  if (named) {
    // Labels by name (multi-class, or binary by positive_class): api/multiclass.ts. Neither field
    // sent: say which labels are accepted, not the numeric "actual" a regression takes.
    const field = Object.hasOwn(item, 'actual') && !Object.hasOwn(item, 'label') ? 'actual' : 'label';
    const found = feedbackClass(m.bundle.spec.target, item[field]);
    if (found.index === null)
      throw badRequest(found.reason, [
        { field, message: Object.hasOwn(item, field) ? `got ${describe(item[field])}` : 'missing' },
      ]);
    return found.index;
  }
  if (Object.hasOwn(item, 'label')) {
    if (task !== 'classification')
      throw badRequest('"label" is for classification models; send "actual" (the observed value)', [
        { field: 'label', message: 'not used by a regression model' },
      ]);
    const l = item.label;
    if (l === 0 || l === 1 || typeof l === 'boolean') return Number(l);
    throw badRequest('"label" must be 0, 1, true or false', [{ field: 'label', message: `got ${describe(l)}` }]);
  }
  const a = item.actual;
  if (typeof a !== 'number' || !Number.isFinite(a))
    throw badRequest(
      'send "actual" (the observed target value, a finite number) or, for classification, "label" (0/1)',
      [{ field: 'actual', message: a === undefined ? 'missing' : `must be a finite number, got ${describe(a)}` }],
    );
  // Every training row's target was within validate.schema's range; an actual outside it is a
  // unit or typing mistake that would skew the live error (and the fleet's) for the whole window.
  const range = m?.bundle.meta.target_range;
  if (range && ((range.min !== undefined && a < range.min) || (range.max !== undefined && a > range.max)))
    throw badRequest(
      `"actual" ${a} is outside the target's range [${range.min ?? '-∞'}, ${range.max ?? '∞'}] (validate.schema in params.yaml, which every training row met)`,
      [{ field: 'actual', message: `out of range: ${a}` }],
    );
  if (task === 'regression') return a;
  const target = m!.bundle.spec.target;
  return a > (target.positive_above ?? 0) ? 1 : 0;
}

export async function postFeedback(ctx: Koa.Context, body: unknown, deps: FeedbackDeps): Promise<void> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest(
      'the body must be a JSON object: {"prediction_id": "...", "actual": <value>} or {"feedback": [...]}',
    );
  const batch = (body as { feedback?: unknown }).feedback;
  const items = batch === undefined ? [body as Record<string, unknown>] : batch;
  if (!Array.isArray(items) || items.length === 0) throw badRequest('"feedback" must be a non-empty array');
  if (items.length > MAX_FEEDBACK_ITEMS)
    throw new HttpError(413, 'too_many_items', `at most ${MAX_FEEDBACK_ITEMS} feedback items per request`);
  const name = deps.manager.current?.name ?? 'model';
  const now = (deps.now ?? Date.now)();
  const candidates: Candidate[] = [];
  const results: (ItemResult | undefined)[] = items.map((raw, index) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      return { index, status: 400, error: 'each feedback item must be an object' };
    const item = raw as Record<string, unknown>;
    const id = item.prediction_id;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_PREDICTION_ID_CHARS)
      return { index, status: 400, error: '"prediction_id" must be the id a prediction answer returned' };
    let outcome: number;
    try {
      outcome = toLabelOrValue(item, deps.manager);
    } catch (err) {
      return { index, prediction_id: id, status: 400, error: (err as Error).message };
    }
    const checked = deps.ids.verify(id);
    if (!checked.ok) {
      deps.metrics.feedback.inc({
        model: name,
        outcome:
          checked.reason === 'malformed' ? 'unknown' : checked.reason === 'unknown_key' ? 'unknown_key' : 'forged',
      });
      return { index, prediction_id: id, status: 404, error: checked.message };
    }
    if (now - checked.claims.issuedAt > deps.ttlMs) {
      deps.metrics.feedback.inc({ model: name, outcome: 'expired' });
      return {
        index,
        prediction_id: id,
        status: 404,
        error: `prediction ${id} has expired (feedback is accepted for ${Math.round(deps.ttlMs / 3_600_000)} h)`,
      };
    }
    // Known here already: no need to ask the store.
    if (deps.seen.has(checked.claims.nonce)) return duplicate(deps, name, index, id);
    candidates.push({ index, id, keyId: checked.keyId, outcome, claims: checked.claims });
    return undefined;
  });
  // The store decides in order, so an id twice in one batch is joined once (as `seen` does without it).
  const claimed: ClaimOutcome[] | null = deps.dedupe
    ? await deps.dedupe.claim(
        candidates.map((c) => ({
          key: claimKey(c.keyId, c.claims.nonce),
          ttlMs: c.claims.issuedAt + deps.ttlMs - now + CLOCK_SKEW_MS,
        })),
      )
    : null;
  candidates.forEach((c, i) => {
    const outcome = claimed ? claimed[i] : deps.seen.has(c.claims.nonce) ? 'repeat' : 'new';
    if (outcome === 'unavailable') {
      deps.metrics.feedback.inc({ model: name, outcome: 'retry_later' });
      results[c.index] = {
        index: c.index,
        prediction_id: c.id,
        status: 503,
        error: `feedback for prediction ${c.id} was not recorded: the store that keeps labels from being counted twice did not answer; send it again in ${DEDUPE_RETRY_AFTER_S} s`,
      };
      return;
    }
    deps.seen.add(c.claims.nonce);
    results[c.index] = outcome === 'repeat' ? duplicate(deps, name, c.index, c.id) : join(deps, name, c);
  });
  const done = results as ItemResult[];
  if (done.some((r) => r.status === 503)) ctx.set('Retry-After', String(DEDUPE_RETRY_AFTER_S));
  if (batch === undefined) {
    const r = done[0];
    if (r.status !== 200)
      throw new HttpError(
        r.status,
        r.status === 404
          ? 'unknown_prediction'
          : r.status === 409
            ? 'duplicate_feedback'
            : r.status === 503
              ? 'feedback_store_unavailable'
              : 'invalid_request',
        r.error!,
      );
    ctx.body = r;
    return;
  }
  ctx.status = done.every((r) => r.status === 200) ? 200 : 207;
  ctx.body = { results: done };
}

function duplicate(deps: FeedbackDeps, name: string, index: number, id: string): ItemResult {
  deps.metrics.feedback.inc({ model: name, outcome: 'duplicate' });
  return { index, prediction_id: id, status: 409, error: `feedback for prediction ${id} was already recorded` };
}

function join(deps: FeedbackDeps, name: string, c: Candidate): ItemResult {
  const found = c.claims;
  deps.window.add({ actual: c.outcome, predicted: found.value, version: found.version });
  const classes = deps.manager.current?.bundle.classes;
  if (classes) {
    // A multi-class id carries the predicted class index; the fleet counts per class.
    deps.fleet.addClass(name, found.version, classes, c.outcome, found.value);
  } else {
    deps.fleet.add(
      name,
      found.version,
      found.threshold === null ? 'regression' : 'classification',
      c.outcome,
      found.value,
      found.threshold,
    );
    errorHistogram(deps.metrics, name).observe(found.value - c.outcome);
  }
  deps.metrics.feedback.inc({ model: name, outcome: 'joined' });
  return {
    index: c.index,
    prediction_id: c.id,
    status: 200,
    model_version: found.version,
    predicted: found.value,
    actual: c.outcome,
    ...(classes ? { predicted_label: classes[found.value], actual_label: classes[c.outcome] } : {}),
  };
}

export function feedbackSummary(deps: FeedbackDeps) {
  const m = deps.manager.current;
  const live = !m
    ? null
    : m.bundle.classes
      ? liveMulticlass(deps.window.snapshot(), m.bundle.classes)
      : liveMetrics(m.bundle.meta.task, deps.window.snapshot(), decisionThreshold(m.bundle.meta));
  return {
    scope: FLEET_VIEW.replica,
    fleet: FLEET_VIEW.quality,
    window_size: deps.window.size,
    samples: deps.window.length,
    joined_ids_remembered: deps.seen.size,
    repeats_refused_across: deps.dedupe
      ? 'every replica (a shared store: FEEDBACK_DEDUPE_URL)'
      : 'this replica only (set FEEDBACK_DEDUPE_URL to refuse a repeat that reaches another replica)',
    live,
  };
}
