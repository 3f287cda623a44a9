/**
 * Prediction routes: `POST /predict` (one record) and `POST /v1/models/<name>:predict`
 * (KServe V1 / TF Serving `{"instances": [...]}`). Both go through the batcher and core/ only.
 */
import { HttpError, badRequest, errorBody, type ErrorDetail } from '../errors.ts';
import { unhealthyRow, type Batcher, type BatchResult } from '../batcher.ts';
import type { ServedModel } from '../model-manager.ts';
import { childCache, counterChild, histogramChild, type ApiMetrics } from '../prometheus.ts';
import type { RequestState } from '../middleware/observe.ts';
import type { PredictionIdSigner } from '../prediction-id.ts';
import { decisionThreshold, labelAt } from '../../core/model/decision.ts';
import { multiclassAnswer } from '../multiclass.ts';

/** What a prediction route sets: a Koa context, or the predict lane's plain answer (../predict-lane.ts). */
export interface Reply {
  state: unknown;
  type: string;
  body: unknown;
}

export interface PredictDeps {
  batcher: Batcher;
  metrics: ApiMetrics;
  maxInstances: number;
  /** Signs the prediction ids, which carry what POST /feedback needs to join a label on any replica. */
  ids: PredictionIdSigner;
}

/** The signed id of answer `i`: model version, served value, the threshold its label used, now. */
function predictionId(deps: PredictDeps, result: BatchResult, i: number, now: number): string {
  const meta = result.model.bundle.meta;
  const threshold = meta.task === 'regression' ? null : decisionThreshold(meta);
  return deps.ids.issue(result.model.version, result.predictions[i]!, threshold, now);
}

function shape(result: BatchResult, i: number) {
  const meta = result.model.bundle.meta;
  const v = result.predictions[i]!;
  const classes = result.model.bundle.classes;
  if (classes) return multiclassAnswer(classes, result.probabilities![i]!);
  if (meta.task === 'regression') return { value: v };
  const threshold = decisionThreshold(meta);
  return { probability: v, label: labelAt(v, threshold), threshold };
}

/**
 * The `field` label of model_rejected_fields_total: a field of the model's schema, "(record)" for
 * a non-object instance, else "(unknown)". Client-chosen names never become label values, so the
 * number of series is bounded by the schema whatever is sent.
 */
export function rejectedFieldLabel(field: string, schema: object): string {
  return Object.hasOwn(schema, field) || field === '(record)' ? field : '(unknown)';
}

function fieldErrors(result: BatchResult, metrics: ApiMetrics, single: boolean): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const schema = result.model.bundle.meta.input_schema;
  result.errors.forEach((errs, instance) => {
    for (const e of errs) {
      details.push(single ? { field: e.field, message: e.message } : { instance, field: e.field, message: e.message });
      metrics.rejected.inc({ model: result.model.name, field: rejectedFieldLabel(e.field, schema) });
    }
  });
  return details;
}

const predictionCounters = new WeakMap<ApiMetrics, ReturnType<typeof childCache<{ inc(n?: number): void }>>>();
const valueHistograms = new WeakMap<ApiMetrics, ReturnType<typeof childCache<{ observe(v: number): void }>>>();

function record(result: BatchResult, metrics: ApiMetrics): void {
  const meta = result.model.bundle.meta;
  let counters = predictionCounters.get(metrics);
  if (!counters)
    predictionCounters.set(
      metrics,
      (counters = childCache((model, version, cls) =>
        counterChild(metrics.predictions, { model, version, class: cls }),
      )),
    );
  let values = valueHistograms.get(metrics);
  if (!values)
    valueHistograms.set(metrics, (values = childCache((model) => histogramChild(metrics.predictionValue, { model }))));
  const version = String(result.model.version);
  const histogram = values(result.model.name);
  const threshold = decisionThreshold(meta);
  const classes = result.model.bundle.classes;
  // Counted per class here and added once per class: a counter's inc hashes its labels every call.
  const perClass = new Map<string, number>();
  for (let i = 0; i < result.predictions.length; i++) {
    const v = result.predictions[i];
    if (v === null) continue; // a row the model failed on (answered with an error)
    // Multi-class: the histogram takes the label's probability, the counter the label (k series).
    histogram.observe(classes ? result.probabilities![i]![v] : v);
    const cls = classes ? classes[v] : meta.task === 'regression' ? 'value' : labelAt(v, threshold) === 1 ? '1' : '0';
    perClass.set(cls, (perClass.get(cls) ?? 0) + 1);
  }
  for (const [cls, n] of perClass) counters(result.model.name, version, cls).inc(n);
}

const answerPrefixes = new WeakMap<ServedModel, string>();

/** `{"model_name":…,"model_version":…,` of a model's answers, made once per model. */
function answerPrefix(model: ServedModel): string {
  let prefix = answerPrefixes.get(model);
  if (prefix === undefined)
    answerPrefixes.set(
      model,
      (prefix = `{"model_name":${JSON.stringify(model.name)},"model_version":${JSON.stringify(model.version)},`),
    );
  return prefix;
}

/** One prediction object's text: `{"probability":…,"label":…,"threshold":…}` or `{"value":…}`. */
function predictionJson(meta: ServedModel['bundle']['meta'], v: number): string {
  if (meta.task === 'regression') return `{"value":${v}}`;
  const t = decisionThreshold(meta);
  return `{"probability":${v},"label":${labelAt(v, t)},"threshold":${t}}`;
}

/**
 * The one-record answer as JSON text, equal to JSON.stringify of its object (see predict.test.ts)
 * but built from a per-model prefix and the numbers, without an object graph to walk per request.
 * Ids are "<key id>.<base64url>" and values finite (a non-finite row is answered 503), so nothing
 * needs escaping. Null for a multi-class answer (its object is built as usual).
 */
export function singleAnswerJson(result: BatchResult, id: string): string | null {
  const model = result.model;
  if (model.bundle.classes) return null;
  return `${answerPrefix(model)}"prediction_id":"${id}","prediction":${predictionJson(model.bundle.meta, result.predictions[0]!)}}`;
}

/**
 * The batch answer as JSON text, equal to JSON.stringify of its object (predict.test.ts), one string
 * built instead of an object per instance. Null for a multi-class answer or one with a failed row
 * (their objects are built as usual).
 */
export function batchAnswerJson(result: BatchResult, ids: readonly (string | null)[]): string | null {
  const model = result.model;
  if (model.bundle.classes || result.failed.length) return null;
  const meta = model.bundle.meta;
  let idsText = '';
  let predictionsText = '';
  for (let i = 0; i < ids.length; i++) {
    const sep = i === 0 ? '' : ',';
    idsText += `${sep}"${ids[i]}"`;
    predictionsText += sep + predictionJson(meta, result.predictions[i]!);
  }
  return `${answerPrefix(model)}"prediction_ids":[${idsText}],"predictions":[${predictionsText}]}`;
}

export async function predictOne(ctx: Reply, body: unknown, deps: PredictDeps): Promise<void> {
  if (Array.isArray(body))
    throw badRequest(
      'POST /predict takes one JSON object; send several records as {"instances": [...]} to /v1/models/<name>:predict',
    );
  const result = await deps.batcher.submit([body]);
  (ctx.state as RequestState).modelVersion = result.model.version;
  const details = fieldErrors(result, deps.metrics, true);
  if (details.length) throw badRequest(`the record has ${details.length} invalid field(s)`, details);
  if (result.failed.length) throw unhealthyRow(result.model);
  record(result, deps.metrics);
  const id = predictionId(deps, result, 0, Date.now());
  const text = singleAnswerJson(result, id);
  if (text !== null) {
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = text;
    return;
  }
  ctx.body = {
    model_name: result.model.name,
    model_version: result.model.version,
    prediction_id: id,
    prediction: shape(result, 0),
  };
}

/** `asObject`: leave the answer as an object in ctx.body (the V2 route reads it), not its text. */
export async function predictMany(
  ctx: Reply,
  body: unknown,
  deps: PredictDeps,
  options: { asObject?: boolean } = {},
): Promise<void> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('the body must be a JSON object {"instances": [ ...records ]}');
  const keys = Object.keys(body);
  const extra = keys.filter((k) => k !== 'instances');
  const instances = (body as { instances?: unknown }).instances;
  if (!Array.isArray(instances))
    throw badRequest('"instances" must be an array of records', [
      { field: 'instances', message: instances === undefined ? 'missing' : 'must be an array' },
    ]);
  if (extra.length)
    throw badRequest(
      `unknown top-level field(s): ${extra.join(', ')}; only "instances" is accepted`,
      extra.map((f) => ({ field: f, message: 'unknown field' })),
    );
  if (instances.length === 0) throw badRequest('"instances" is empty; send at least one record');
  if (instances.length > deps.maxInstances)
    throw new HttpError(
      413,
      'too_many_instances',
      `${instances.length} instances exceed the limit of ${deps.maxInstances} per request; split the request`,
    );
  const result = await deps.batcher.submit(instances);
  (ctx.state as RequestState).modelVersion = result.model.version;
  const details = fieldErrors(result, deps.metrics, false);
  if (details.length)
    throw badRequest(
      `${new Set(details.map((d) => d.instance)).size} of ${instances.length} instance(s) are invalid`,
      details,
    );
  // A row the model fails on is answered in its slot; the others are not held hostage by it.
  if (result.failed.length === instances.length) throw unhealthyRow(result.model);
  const failed = new Set(result.failed);
  record(result, deps.metrics);
  const now = Date.now();
  const ids = instances.map((_, i) => (failed.has(i) ? null : predictionId(deps, result, i, now)));
  const text = options.asObject ? null : batchAnswerJson(result, ids);
  if (text !== null) {
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = text;
    return;
  }
  ctx.body = {
    model_name: result.model.name,
    model_version: result.model.version,
    prediction_ids: ids,
    predictions: instances.map((_, i) => (failed.has(i) ? errorBody(unhealthyRow(result.model)) : shape(result, i))),
  };
}
