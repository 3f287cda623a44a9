/**
 * The Open Inference Protocol (KServe V2 REST) routes against the protocol's published contract
 * (the REST OpenAPI document and its prose of the kserve/open-inference-protocol repository): the
 * required fields and types of each answer, transcribed below as checks,
 * and the same numbers as the V1 route for the same records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD, registryWithVersions, sampleRecords, startTestServer } from '../harness/testing/api/support.ts';
import { instancesFromTensors, v2MetadataOf } from './routes/v2.ts';
import type { BundleMeta } from '../core/schemas/bundle-meta.ts';

/** The protocol's tensor datatypes. */
const DATATYPES = new Set([
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
]);

const isString = (v: unknown) => typeof v === 'string';
const isTensorMeta = (t: unknown): boolean => {
  const m = t as { name?: unknown; datatype?: unknown; shape?: unknown };
  return (
    isString(m.name) &&
    DATATYPES.has(m.datatype as string) &&
    Array.isArray(m.shape) &&
    m.shape.every((d) => Number.isInteger(d))
  );
};
/** A response output: a tensor whose data holds as many elements as its shape says. */
const isOutput = (t: unknown): boolean => {
  const o = t as { shape: number[]; data?: unknown; parameters?: unknown };
  if (!isTensorMeta(t) || !Array.isArray(o.data)) return false;
  const size = o.shape.reduce((a, b) => a * b, 1);
  const params = o.parameters === undefined || (typeof o.parameters === 'object' && o.parameters !== null);
  return o.data.flat().length === size && params;
};

function tensors(records: Record<string, unknown>[]) {
  const n = records.length;
  return [
    { name: 'date', shape: [n], datatype: 'BYTES', data: records.map((r) => r.date) },
    { name: 'distance', shape: [n, 1], datatype: 'FP64', data: records.map((r) => [r.distance]) },
    { name: 'origin', shape: [n], datatype: 'BYTES', data: records.map((r) => r.origin) },
  ];
}

test('V2 health, server and model metadata, and infer answer in the protocol shapes, with the numbers of V1', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root);
  const get = async (path: string) => {
    const r = await fetch(`${srv.url}${path}`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${srv.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  try {
    assert.deepEqual(await get('/v2/health/live'), { status: 200, body: { live: true } });
    assert.deepEqual(await get('/v2/health/ready'), { status: 200, body: { ready: true } });
    assert.deepEqual(await get('/v2/models/flight-delay/ready'), {
      status: 200,
      body: { name: 'flight-delay', ready: true },
    });

    const server = (await get('/v2')).body;
    assert.ok(isString(server.name) && isString(server.version) && Array.isArray(server.extensions), 'server metadata');

    const meta = (await get('/v2/models/flight-delay')).body as {
      name: string;
      versions: string[];
      platform: string;
      inputs: unknown[];
      outputs: unknown[];
    };
    assert.equal(meta.name, 'flight-delay');
    assert.deepEqual(Object.keys(meta).sort(), ['inputs', 'name', 'outputs', 'platform', 'versions']);
    assert.equal(meta.platform, 'tensorflowjs_layers', 'the fixture is an MLP');
    assert.deepEqual(meta.versions, ['1']);
    assert.ok(meta.inputs.every(isTensorMeta) && meta.outputs.every(isTensorMeta), 'metadata tensors');
    assert.deepEqual(
      meta.inputs.map((t) => (t as { name: string; datatype: string }).datatype),
      ['BYTES', 'FP64', 'BYTES'],
      'timestamp and category as BYTES, number as FP64',
    );

    const records = [RECORD, ...sampleRecords(3)];
    const v2 = await post('/v2/models/flight-delay/infer', { id: 'req-7', inputs: tensors(records) });
    assert.equal(v2.status, 200, JSON.stringify(v2.body));
    const body = v2.body as { model_name: string; model_version: string; id: string; outputs: unknown[] };
    assert.equal(body.model_name, 'flight-delay');
    assert.equal(body.model_version, '1', 'the protocol says model_version is a string');
    assert.equal(body.id, 'req-7', 'the request id comes back');
    assert.ok(body.outputs.every(isOutput), 'every output is a well-formed tensor');
    const out = Object.fromEntries((body.outputs as { name: string; data: unknown[] }[]).map((t) => [t.name, t.data]));
    const v1 = (await post('/v1/models/flight-delay:predict', { instances: records })).body as {
      predictions: { probability: number; label: number }[];
    };
    assert.deepEqual(
      out.probability,
      v1.predictions.map((p) => p.probability),
    );
    assert.deepEqual(
      out.label,
      v1.predictions.map((p) => p.label),
    );
    assert.equal(out.prediction_id.length, records.length);

    // Feedback joins a V2 prediction id like any other.
    const fb = await post('/feedback', { prediction_id: out.prediction_id[0], label: 1 });
    assert.equal(fb.status, 200, JSON.stringify(fb.body));

    // Asked-for outputs only; unknown ones are an error in the protocol's shape.
    const only = await post('/v2/models/flight-delay/infer', {
      inputs: tensors(records),
      outputs: [{ name: 'label' }],
    });
    assert.deepEqual(
      (only.body.outputs as { name: string }[]).map((t) => t.name),
      ['label'],
    );
    const bad = await post('/v2/models/flight-delay/infer', { inputs: tensors(records), outputs: [{ name: 'x' }] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error as string, /unknown output\(s\) x/);

    // A bad value is a 400 whose one `error` string names the row and field.
    const wrong = tensors([{ ...RECORD, distance: -5 }]);
    const refused = await post('/v2/models/flight-delay/infer', { inputs: wrong });
    assert.equal(refused.status, 400);
    assert.deepEqual(Object.keys(refused.body), ['error']);
    assert.match(refused.body.error as string, /row 0 distance/);
  } finally {
    await srv.close();
  }
});

test('V2 input tensors: shapes, lengths and names are checked, flat or nested data accepted', () => {
  const ok = instancesFromTensors({
    inputs: [
      { name: 'a', shape: [2], datatype: 'FP64', data: [1, 2] },
      { name: 'b', shape: [2, 1], datatype: 'BYTES', data: [['x'], ['y']] },
    ],
  });
  assert.deepEqual(ok.instances, [
    { a: 1, b: 'x' },
    { a: 2, b: 'y' },
  ]);
  const fails = (body: unknown, re: RegExp) => assert.throws(() => instancesFromTensors(body), re);
  fails({}, /"inputs" must be a non-empty array/);
  fails({ inputs: [{ name: 'a', shape: [2], data: [1] }] }, /shape says 2 values, data holds 1/);
  fails({ inputs: [{ name: 'a', shape: [1, 3], data: [1, 2, 3] }] }, /3 values per row; send one column per tensor/);
  fails(
    {
      inputs: [
        { name: 'a', shape: [1], data: [1] },
        { name: 'b', shape: [2], data: [1, 2] },
      ],
    },
    /every input needs the same N/,
  );
  fails(
    {
      inputs: [
        { name: 'a', shape: [1], data: [1] },
        { name: 'a', shape: [1], data: [1] },
      ],
    },
    /given twice/,
  );
  fails({ id: 3, inputs: [{ name: 'a', shape: [1], data: [1] }] }, /"id" must be a string/);
});

/** A bundle.json of the given kind and task with the fixture's three inputs. */
function metaOf(model_type: BundleMeta['model_type'], task: BundleMeta['task'] = 'classification'): BundleMeta {
  return {
    format_version: 1,
    name: 'm',
    task,
    candidate: model_type,
    model_type,
    params: {},
    metrics: { validation: {} },
    primary_metric: 'roc_auc',
    data_md5: null,
    git_commit: null,
    created_at: '2026-01-01T00:00:00.000Z',
    backend: 'cpu',
    input_schema: {
      date: { type: 'timestamp', required: true },
      distance: { type: 'number', required: true },
      origin: { type: 'category', required: true },
    },
    rows: { train: 1 },
  };
}

test('V2 model metadata names the platform that serves each model kind, in the protocol’s <project>_<format> form', () => {
  const expected: [BundleMeta['model_type'], string][] = [
    ['mlp', 'tensorflowjs_layers'],
    ['logistic', 'tensorflowjs_layers'],
    ['gbdt', 'gitops-ml_trees'],
    ['blend', 'ensemble'],
  ];
  for (const [kind, platform] of expected) {
    const meta = v2MetadataOf('flight-delay', 4, { meta: metaOf(kind), classes: undefined });
    assert.equal(meta.platform, platform, kind);
    assert.ok(platform === 'ensemble' || /^[a-z0-9-]+_[a-z0-9]+$/.test(platform), `${platform}: <project>_<format>`);
    // Only the protocol's fields, whatever the kind.
    assert.deepEqual(Object.keys(meta).sort(), ['inputs', 'name', 'outputs', 'platform', 'versions']);
    assert.deepEqual(meta.versions, ['4']);
    assert.ok(meta.inputs.every(isTensorMeta) && meta.outputs.every(isTensorMeta), kind);
  }
  const regression = v2MetadataOf('m', 1, { meta: metaOf('gbdt', 'regression'), classes: undefined });
  assert.deepEqual(
    regression.outputs.map((t) => t.name),
    ['value', 'prediction_id'],
  );
  const multi = v2MetadataOf('m', 1, { meta: metaOf('blend'), classes: ['fog', 'rain', 'sun'] });
  assert.equal(multi.platform, 'ensemble');
  assert.deepEqual(multi.outputs.find((t) => t.name === 'probabilities')?.shape, [-1, 3]);
});
