/**
 * The Open Inference Protocol (KServe V2 REST, also spoken by Triton and MLServer) beside KServe
 * V1: `/v2/health/live|ready`, `/v2` (server metadata), `/v2/models/<name>` (model metadata),
 * `/v2/models/<name>/ready` and `POST /v2/models/<name>/infer`. One named input tensor per input
 * column (shape `[N]` or `[N, 1]`, row-major `data`), answered with named output tensors. An infer
 * request is turned into V1 instances and served by the same route code (validation, batcher,
 * signed prediction ids, metrics), so both protocols give the same numbers. Errors are the
 * protocol's `{"error": "<message>"}` with the status V1 would give.
 */
import type Koa from 'koa';
import { HttpError } from '../errors.ts';
import type { ModelManager } from '../model-manager.ts';
import { predictMany, type PredictDeps } from './predict.ts';
import type { ColumnRule } from '../../core/schemas/params.ts';
import type { BundleMeta } from '../../core/schemas/bundle-meta.ts';
import type { LoadedBundle } from '../../core/model/bundle.ts';

/** A tensor in a V2 request or answer. */
export interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, string | number | boolean>;
}

const SERVER = { name: 'gitops-ml', version: '1', extensions: [] as string[] };

/** The V2 datatype of an input column: numbers as FP64 (INT64 for integers), everything else BYTES (UTF-8 strings). */
export function v2Datatype(rule: ColumnRule): string {
  return rule.type === 'number' ? 'FP64' : rule.type === 'integer' ? 'INT64' : 'BYTES';
}

/**
 * The protocol's `platform` ("the framework/backend for the model", information only, named
 * `<project>_<format>`) of what actually answers: networks are TensorFlow.js layers models
 * (model.json + weights.bin), tree ensembles this project's own trees.json (no standard tree
 * format such as Triton FIL's XGBoost/LightGBM files), and a blend the weighted mean of member
 * models, which Triton calls an `ensemble`.
 */
export function v2Platform(modelType: BundleMeta['model_type']): string {
  switch (modelType) {
    case 'mlp':
    case 'logistic':
      return 'tensorflowjs_layers';
    case 'gbdt':
      return 'gitops-ml_trees';
    case 'blend':
      return 'ensemble';
  }
}

/** The model metadata response of a loaded bundle: the protocol's five fields, nothing else. */
export function v2MetadataOf(name: string, version: number, bundle: Pick<LoadedBundle, 'meta' | 'classes'>) {
  const { meta, classes } = bundle;
  const outputs: Omit<Tensor, 'data'>[] =
    meta.task === 'regression'
      ? [{ name: 'value', datatype: 'FP64', shape: [-1] }]
      : classes
        ? [
            { name: 'label', datatype: 'BYTES', shape: [-1] },
            { name: 'probability', datatype: 'FP64', shape: [-1] },
            { name: 'probabilities', datatype: 'FP64', shape: [-1, classes.length] },
          ]
        : [
            { name: 'probability', datatype: 'FP64', shape: [-1] },
            { name: 'label', datatype: 'INT64', shape: [-1] },
          ];
  return {
    name,
    versions: [String(version)],
    platform: v2Platform(meta.model_type),
    inputs: Object.entries(meta.input_schema).map(([field, rule]) => ({
      name: field,
      datatype: v2Datatype(rule),
      shape: [-1],
    })),
    outputs: [...outputs, { name: 'prediction_id', datatype: 'BYTES', shape: [-1] }],
  };
}

/** `GET /v2/models/<name>`: the model's input and output tensors. */
export function v2ModelMetadata(manager: ModelManager, name: string) {
  const m = manager.current;
  if (!m) throw new HttpError(503, 'not_ready', manager.lastError ?? `model ${name} is loading`);
  return v2MetadataOf(name, m.version, m.bundle);
}

function requestError(message: string): HttpError {
  return new HttpError(400, 'invalid_request', message);
}

/** V2 input tensors → V1 instances (one record per row); every problem named by tensor. */
export function instancesFromTensors(body: unknown): { id?: string; instances: Record<string, unknown>[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw requestError('the body must be a JSON object {"inputs": [{"name", "shape", "datatype", "data"}, ...]}');
  const { id, inputs } = body as { id?: unknown; inputs?: unknown };
  if (id !== undefined && typeof id !== 'string') throw requestError('"id" must be a string');
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw requestError('"inputs" must be a non-empty array of tensors, one per input column');
  let rows: number | null = null;
  const columns = new Map<string, unknown[]>();
  for (const [i, t] of inputs.entries()) {
    if (t === null || typeof t !== 'object' || Array.isArray(t)) throw requestError(`inputs[${i}] must be an object`);
    const { name, shape, data } = t as Partial<Tensor>;
    if (typeof name !== 'string' || name === '') throw requestError(`inputs[${i}].name must be a non-empty string`);
    if (columns.has(name)) throw requestError(`input "${name}" is given twice`);
    if (
      !Array.isArray(shape) ||
      shape.length < 1 ||
      shape.length > 2 ||
      !shape.every((d) => Number.isInteger(d) && d >= 0)
    )
      throw requestError(
        `input "${name}": shape must be [N] or [N, 1] (one value per row), got ${JSON.stringify(shape)}`,
      );
    if (shape.length === 2 && shape[1] !== 1)
      throw requestError(
        `input "${name}": shape [N, ${shape[1]}] has ${shape[1]} values per row; send one column per tensor, [N] or [N, 1]`,
      );
    if (!Array.isArray(data)) throw requestError(`input "${name}": data must be an array`);
    // Row-major data may come flat or nested ([[v], [v]] for [N, 1]).
    const flat = data.flat();
    if (flat.length !== shape[0])
      throw requestError(`input "${name}": shape says ${shape[0]} values, data holds ${flat.length}`);
    if (rows !== null && shape[0] !== rows)
      throw requestError(`input "${name}" has ${shape[0]} rows, the others ${rows}: every input needs the same N`);
    rows = shape[0];
    columns.set(name, flat);
  }
  const instances = Array.from({ length: rows ?? 0 }, (_, r) =>
    Object.fromEntries([...columns].map(([name, values]) => [name, values[r]])),
  );
  return { ...(id !== undefined ? { id } : {}), instances };
}

interface V1Answer {
  model_name: string;
  model_version: number;
  prediction_ids: (string | null)[];
  predictions: Record<string, unknown>[];
}

/** The V1 answer as V2 output tensors. */
export function tensorsFromAnswer(v1: V1Answer, classes: readonly string[] | undefined): Tensor[] {
  const n = v1.predictions.length;
  const column = (key: string) => v1.predictions.map((p) => p[key]);
  const ids: Tensor = { name: 'prediction_id', datatype: 'BYTES', shape: [n], data: v1.prediction_ids };
  if ('value' in (v1.predictions[0] ?? {}))
    return [{ name: 'value', datatype: 'FP64', shape: [n], data: column('value') }, ids];
  if (classes) {
    const probabilities = v1.predictions.flatMap((p) =>
      classes.map((c) => (p.probabilities as Record<string, number>)[c]),
    );
    return [
      { name: 'label', datatype: 'BYTES', shape: [n], data: column('label') },
      { name: 'probability', datatype: 'FP64', shape: [n], data: column('probability') },
      {
        name: 'probabilities',
        datatype: 'FP64',
        shape: [n, classes.length],
        data: probabilities,
        parameters: { classes: classes.join(',') },
      },
      ids,
    ];
  }
  const threshold = v1.predictions[0]?.threshold;
  return [
    {
      name: 'probability',
      datatype: 'FP64',
      shape: [n],
      data: column('probability'),
      ...(typeof threshold === 'number' ? { parameters: { threshold } } : {}),
    },
    { name: 'label', datatype: 'INT64', shape: [n], data: column('label') },
    ids,
  ];
}

/** `POST /v2/models/<name>/infer`. */
export async function infer(ctx: Koa.Context, body: unknown, deps: PredictDeps, manager: ModelManager): Promise<void> {
  await asV2Error(ctx, async () => {
    const { id, instances } = instancesFromTensors(body);
    const wanted = (body as { outputs?: unknown }).outputs;
    await predictMany(ctx, { instances }, deps, { asObject: true });
    const v1 = ctx.body as V1Answer;
    const failed = v1.predictions.findIndex((p) => 'error' in p);
    if (failed >= 0)
      throw new HttpError(
        503,
        'model_unhealthy',
        `model ${v1.model_name} v${v1.model_version} gave no finite output for row ${failed}; a V2 tensor cannot hold a per-row error: retry later, or send the rows to /v1/models/${v1.model_name}:predict for per-row answers`,
      );
    let outputs = tensorsFromAnswer(v1, manager.current?.bundle.classes);
    if (Array.isArray(wanted) && wanted.length) {
      const names = wanted.map((o) => (o as { name?: unknown })?.name);
      const unknown = names.filter((n) => !outputs.some((t) => t.name === n));
      if (unknown.length)
        throw requestError(
          `unknown output(s) ${unknown.map(String).join(', ')}; this model has ${outputs.map((t) => t.name).join(', ')}`,
        );
      outputs = outputs.filter((t) => names.includes(t.name));
    }
    ctx.body = {
      model_name: v1.model_name,
      model_version: String(v1.model_version),
      ...(id !== undefined ? { id } : {}),
      outputs,
    };
  });
}

/** The protocol's error shape, `{"error": "<message>"}`, with the status the error carries. */
export async function asV2Error(ctx: Koa.Context, work: () => Promise<void> | void): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    ctx.status = err.status;
    const details = err.details?.map(
      (d) => `${d.instance !== undefined ? `row ${d.instance} ` : ''}${d.field}: ${d.message}`,
    );
    ctx.body = { error: details?.length ? `${err.message}: ${details.join('; ')}` : err.message };
  }
}

export const v2Server = () => SERVER;
