/**
 * `POST /feedback`: `{"prediction_id": "...", "actual": 37}` (target units, e.g. delay minutes) or,
 * for classification, `{"prediction_id": "...", "label": 1}`; up to 1,000 at once as
 * `{"feedback": [ ... ]}`. `GET /feedback`: live quality over the recent window.
 */
import type Koa from 'koa';
import { HttpError, badRequest } from '../errors.ts';
import type { FeedbackWindow, SeenIds } from '../feedback.ts';
import { liveMetrics } from '../feedback.ts';
import { MAX_PREDICTION_ID_CHARS, type PredictionIdSigner } from '../prediction-id.ts';
import type { FleetQuality } from '../fleet-metrics.ts';
import { FLEET_VIEW } from '../fleet-view.ts';
import type { ModelManager } from '../model-manager.ts';
import type { ApiMetrics } from '../prometheus.ts';
import { describe } from '../../core/data/records.ts';
import { decisionThreshold } from '../../core/model/decision.ts';
import { feedbackClass, liveMulticlass } from '../multiclass.ts';

export interface FeedbackDeps {
  ids: PredictionIdSigner;
  /** Ids joined on this replica: a repeat that reaches it again is refused (409). */
  seen: SeenIds;
  /** Labels are accepted this long after the prediction (FEEDBACK_TTL_MS). */
  ttlMs: number;
  window: FeedbackWindow;
  fleet: FleetQuality;
  now?: () => number;
  manager: ModelManager;
  metrics: ApiMetrics;
}

const MAX_ITEMS = 1000;

function toLabelOrValue(item: Record<string, unknown>, manager: ModelManager): number {
  const m = manager.current;
  const task = m?.bundle.meta.task ?? 'classification';
  const named = m && (m.bundle.spec.target.classes || m.bundle.spec.target.positive_class !== undefined);
  if (named && (Object.hasOwn(item, 'label') || Object.hasOwn(item, 'actual'))) {
    // Labels by name (multi-class, or binary by positive_class): api/multiclass.ts.
    const field = Object.hasOwn(item, 'label') ? 'label' : 'actual';
    const found = feedbackClass(m.bundle.spec.target, item[field]);
    if (found.index === null) throw badRequest(found.reason, [{ field, message: `got ${describe(item[field])}` }]);
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
  if (task === 'regression') return a;
  const target = m!.bundle.spec.target;
  return a > (target.positive_above ?? 0) ? 1 : 0;
}

export function postFeedback(ctx: Koa.Context, body: unknown, deps: FeedbackDeps): void {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest(
      'the body must be a JSON object: {"prediction_id": "...", "actual": <value>} or {"feedback": [...]}',
    );
  const batch = (body as { feedback?: unknown }).feedback;
  const items = batch === undefined ? [body as Record<string, unknown>] : batch;
  if (!Array.isArray(items) || items.length === 0) throw badRequest('"feedback" must be a non-empty array');
  if (items.length > MAX_ITEMS)
    throw new HttpError(413, 'too_many_items', `at most ${MAX_ITEMS} feedback items per request`);
  const name = deps.manager.current?.name ?? 'model';
  const results = items.map((raw, index) => {
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
    const found = checked.claims;
    if ((deps.now ?? Date.now)() - found.issuedAt > deps.ttlMs) {
      deps.metrics.feedback.inc({ model: name, outcome: 'expired' });
      return {
        index,
        prediction_id: id,
        status: 404,
        error: `prediction ${id} has expired (feedback is accepted for ${Math.round(deps.ttlMs / 3_600_000)} h)`,
      };
    }
    if (!deps.seen.add(found.nonce)) {
      deps.metrics.feedback.inc({ model: name, outcome: 'duplicate' });
      return { index, prediction_id: id, status: 409, error: `feedback for prediction ${id} was already recorded` };
    }
    deps.window.add({ actual: outcome, predicted: found.value, version: found.version });
    const classes = deps.manager.current?.bundle.classes;
    if (classes) {
      // A multi-class id carries the predicted class index; the fleet counts per class.
      deps.fleet.addClass(name, found.version, classes, outcome, found.value);
    } else {
      deps.fleet.add(
        name,
        found.version,
        found.threshold === null ? 'regression' : 'classification',
        outcome,
        found.value,
        found.threshold,
      );
      deps.metrics.predictionError.observe({ model: name }, found.value - outcome);
    }
    deps.metrics.feedback.inc({ model: name, outcome: 'joined' });
    return {
      index,
      prediction_id: id,
      status: 200,
      model_version: found.version,
      predicted: found.value,
      actual: outcome,
    };
  });
  if (batch === undefined) {
    const r = results[0];
    if (r.status !== 200)
      throw new HttpError(
        r.status,
        r.status === 404 ? 'unknown_prediction' : r.status === 409 ? 'duplicate_feedback' : 'invalid_request',
        r.error!,
      );
    ctx.body = r;
    return;
  }
  ctx.status = results.every((r) => r.status === 200) ? 200 : 207;
  ctx.body = { results };
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
    live,
  };
}
