/**
 * GET /openapi.json describes every route the app serves, and what the routes answer fits it: each
 * answer's status is one the document lists for that route and its JSON body validates against the
 * documented schema (zod's JSON Schema reader; no OpenAPI validator is a dependency, so the
 * document's own structure is checked here: every $ref resolves, every operation has answers).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { RECORD, WEATHER, post, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';
import { createApp, routesOf } from './app.ts';
import { Batcher } from './batcher.ts';
import { createMetrics } from './prometheus.ts';
import { createLogger } from '../core/platform/log.ts';
import { createSigner } from './prediction-id.ts';
import { FeedbackWindow, SeenIds } from './feedback.ts';
import { FleetQuality } from './fleet-metrics.ts';
import { openApiDocument } from './openapi.ts';
import { SCHEMA } from '../harness/testing/api/support.ts';

type Json = Record<string, unknown>;
interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Json }> }> }>>;
  components: { schemas: Record<string, Json> };
}

const setup = (async () => {
  const reg = await registryWithVersions([1]);
  const srv = await startTestServer(reg.url, reg.root);
  const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as Doc;
  return { srv, doc };
})();
after(async () => (await setup).srv.close());

/** The routes an app built by createApp registers, for the served model. */
async function registeredRoutes(): Promise<string[]> {
  const { srv } = await setup;
  const metrics = createMetrics({ servedModel: () => null, liveQuality: () => ({}) }, undefined, {
    defaultMetrics: false,
  });
  const app = createApp({
    config: srv.config,
    manager: srv.manager,
    batcher: new Batcher(srv.manager, metrics, { maxRows: 1, waitMs: 0 }),
    metrics,
    log: createLogger({ write: () => {} }),
    feedback: {
      ids: createSigner(null, () => {}),
      seen: new SeenIds(10),
      window: new FeedbackWindow(10),
      fleet: new FleetQuality(),
      dedupe: null,
    },
  });
  return routesOf(app).map((r) => `${r.method} ${r.template}`);
}

const documented = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));

/** A copy of `schema` with every `#/components/schemas/X` reference replaced by X (throws on a dangling one). */
function deref(doc: Doc, schema: unknown, seen: string[] = []): unknown {
  if (Array.isArray(schema)) return schema.map((s) => deref(doc, s, seen));
  if (schema === null || typeof schema !== 'object') return schema;
  const { $ref, ...rest } = schema as Json;
  if (typeof $ref === 'string') {
    const name = /^#\/components\/schemas\/(.+)$/.exec($ref)?.[1];
    const target = name === undefined ? undefined : doc.components.schemas[name];
    if (!target) throw new Error(`$ref ${$ref} does not resolve`);
    if (seen.includes($ref)) throw new Error(`$ref ${$ref} is recursive`);
    return deref(doc, target, [...seen, $ref]);
  }
  return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, deref(doc, v, seen)]));
}

/** Whether `body`, answered with `status` by METHOD path, is what the document says that route answers. */
function checkAnswer(doc: Doc, method: string, path: string, status: number, body: unknown): void {
  const op = doc.paths[path]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${path} is not in the document`);
  const answer = op.responses[String(status)];
  assert.ok(answer, `${method} ${path} answered ${status}, which the document does not list: ${JSON.stringify(body)}`);
  const schema = answer.content?.['application/json']?.schema;
  assert.ok(schema, `${method} ${path} ${status}: the document gives no JSON schema`);
  const parsed = z.fromJSONSchema(deref(doc, schema) as never).safeParse(body);
  assert.ok(
    parsed.success,
    `${method} ${path} ${status}: ${JSON.stringify(body)} does not fit the document: ${parsed.error?.message}`,
  );
}

test('the document lists exactly the routes the app registers (a new route must be documented)', async () => {
  const { doc } = await setup;
  const routes = (await registeredRoutes()).sort();
  assert.ok(routes.includes('POST /feedback') && routes.length > 10, routes.join(', '));
  assert.deepEqual(documented(doc).sort(), routes);
});

test('every documented route is served: OPTIONS on its path allows its method', async () => {
  const { srv, doc } = await setup;
  for (const key of documented(doc)) {
    const [method, path] = key.split(' ');
    const res = await fetch(`${srv.url}${path}`, { method: 'OPTIONS' });
    assert.equal(res.status, 204, key);
    assert.ok(res.headers.get('allow')?.split(', ').includes(method), `${key}: Allow ${res.headers.get('allow')}`);
  }
});

test('the document is well formed: OpenAPI 3.1, every operation answers, every $ref and JSON schema resolves', async () => {
  const { doc } = await setup;
  assert.equal(doc.openapi, '3.1.0');
  assert.throws(() => deref(doc, { $ref: '#/components/schemas/Nope' }), /does not resolve/);
  for (const [path, ops] of Object.entries(doc.paths)) {
    assert.match(path, /^\//);
    for (const [method, op] of Object.entries(ops)) {
      const statuses = Object.keys(op.responses);
      assert.ok(statuses.length > 0 && statuses.every((s) => /^[1-5]\d\d$/.test(s)), `${method} ${path}`);
      for (const [status, answer] of Object.entries(op.responses))
        for (const media of Object.values(answer.content ?? {}))
          assert.doesNotThrow(() => z.fromJSONSchema(deref(doc, media.schema) as never), `${method} ${path} ${status}`);
    }
  }
});

test('predictions and every feedback answer (joined, repeat, unknown, invalid, batch) fit the document', async () => {
  const { srv, doc } = await setup;
  const one = await post(`${srv.url}/predict`, RECORD);
  checkAnswer(doc, 'POST', '/predict', one.status, one.json);
  const many = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: [RECORD, RECORD] });
  checkAnswer(doc, 'POST', '/v1/models/flight-delay:predict', many.status, many.json);
  const invalid = await post(`${srv.url}/predict`, { ...RECORD, distance: 'far' });
  assert.equal(invalid.status, 400);
  checkAnswer(doc, 'POST', '/predict', invalid.status, invalid.json);

  const notJson = await post(`${srv.url}/predict`, '{"date":');
  assert.equal(notJson.json.error.code, 'invalid_json');
  checkAnswer(doc, 'POST', '/predict', notJson.status, notJson.json);
  const text = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    body: 'x',
    headers: { 'content-type': 'text/plain' },
  });
  checkAnswer(doc, 'POST', '/predict', text.status, await text.json());
  const over = Array.from({ length: srv.config.maxInstances + 1 }, () => RECORD);
  const tooMany = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: over });
  assert.equal(tooMany.json.error.code, 'too_many_instances');
  checkAnswer(doc, 'POST', '/v1/models/flight-delay:predict', tooMany.status, tooMany.json);

  const id = one.json.prediction_id as string;
  const answers: [number, string | null, unknown][] = [];
  const feedback = async (body: unknown, status: number, code: string | null) => {
    const res = await post(`${srv.url}/feedback`, body);
    assert.equal(res.status, status, JSON.stringify(res.json));
    assert.equal(res.json.error?.code ?? null, code);
    checkAnswer(doc, 'POST', '/feedback', res.status, res.json);
    answers.push([status, code, res.json]);
    return res.json;
  };
  const joined = await feedback({ prediction_id: id, label: 1 }, 200, null);
  assert.equal(joined.predicted, one.json.prediction.probability);
  await feedback({ prediction_id: id, label: 1 }, 409, 'duplicate_feedback');
  await feedback({ prediction_id: `${id.slice(0, -2)}AA`, label: 0 }, 404, 'unknown_prediction');
  await feedback({ prediction_id: 'not-an-id', label: 0 }, 404, 'unknown_prediction');
  await feedback({ prediction_id: many.json.prediction_ids[0], label: 7 }, 400, 'invalid_request');
  await feedback({ feedback: [] }, 400, 'invalid_request');
  const batch = await feedback(
    {
      feedback: [
        { prediction_id: many.json.prediction_ids[0], actual: 50 },
        { prediction_id: id, label: 0 },
      ],
    },
    207,
    null,
  );
  assert.deepEqual(
    batch.results.map((r: { status: number }) => r.status),
    [200, 409],
  );
  const labels = Array.from({ length: 1001 }, () => ({ prediction_id: id, label: 1 }));
  await feedback({ feedback: labels }, 413, 'too_many_items');

  // A documented schema that answers could not break would prove nothing: a wrong answer is refused.
  assert.throws(
    () => checkAnswer(doc, 'POST', '/feedback', 409, { error: { code: 'unknown_prediction', message: 'x' } }),
    /does not fit/,
  );
  assert.throws(() => checkAnswer(doc, 'POST', '/feedback', 200, { ...joined, prediction_id: 7 }), /does not fit/);
  assert.throws(() => checkAnswer(doc, 'POST', '/feedback', 418, {}), /does not list/);
});

test('the monitoring reads and the document itself fit the document', async () => {
  const { srv, doc } = await setup;
  for (const path of ['/feedback', '/drift', '/openapi.json', '/readyz']) {
    const res = await fetch(`${srv.url}${path}`);
    const body = await res.json();
    if (path === '/readyz') assert.equal(res.status, 200);
    else checkAnswer(doc, 'GET', path, res.status, body);
  }
  const summary = (await (await fetch(`${srv.url}/feedback`)).json()) as { live: { n: number } | null };
  assert.ok(summary.live && summary.live.n >= 1, 'the labels joined above are counted');
});

test('request schemas: a feedback body, a prediction id of the signed form, a label the task takes', () => {
  const base = { modelName: 'm', version: 3, schema: SCHEMA, maxInstances: 10, auth: true, monitoringAuth: true };
  const classification = openApiDocument({ ...base, task: 'classification' }) as unknown as Doc;
  const regression = openApiDocument({ ...base, task: 'regression' }) as unknown as Doc;
  const request = (d: Doc) =>
    z.fromJSONSchema(
      deref(
        d,
        (d.paths['/feedback'].post as unknown as { requestBody: { content: Record<string, { schema: Json }> } })
          .requestBody.content['application/json'].schema,
      ) as never,
    );
  const id = `k1.${'A'.repeat(70)}`;
  const ok = (d: Doc, body: unknown) => request(d).safeParse(body).success;
  assert.ok(ok(classification, { prediction_id: id, label: 1 }));
  assert.ok(ok(classification, { feedback: [{ prediction_id: id, actual: 37 }] }));
  assert.ok(!ok(classification, { prediction_id: id, label: 2 }));
  assert.ok(
    !ok(classification, { prediction_id: 'ce1af4fa-f0af-4d00-9949-f07dd12140e4', label: 1 }),
    'a UUID is no id',
  );
  assert.ok(!ok(classification, { feedback: [] }));
  assert.ok(ok(regression, { prediction_id: id, actual: 12.5 }));
  // With the bundle's target range the schema bounds "actual" as the server does.
  const ranged = openApiDocument({ ...base, task: 'regression', targetRange: { min: 0, max: 100 } }) as unknown as Doc;
  assert.ok(ok(ranged, { prediction_id: id, actual: 12.5 }));
  assert.ok(!ok(ranged, { prediction_id: id, actual: -5 }));
  assert.ok(!ok(ranged, { prediction_id: id, actual: 100.5 }));
  assert.ok(ok(regression, { prediction_id: id, actual: -5 }), 'no range: any finite value');
  const secured = (d: Doc, path: string, method: string) =>
    (d.paths[path][method] as unknown as { security: unknown[] }).security.length > 0;
  assert.ok(secured(classification, '/feedback', 'post') && secured(classification, '/drift', 'get'));
  const open = openApiDocument({
    ...base,
    task: 'classification',
    auth: false,
    monitoringAuth: false,
  }) as unknown as Doc;
  assert.ok(!secured(open, '/feedback', 'post') && !('401' in open.paths['/feedback'].post.responses));
});

test('a multi-class model: feedback takes the class by name ("label" or "actual"), as the document says', async () => {
  const reg = await registryWithVersions([1], { multiclass: true });
  const srv = await startTestServer(reg.url, reg.root);
  try {
    const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as Doc;
    const request = z.fromJSONSchema(
      deref(
        doc,
        (doc.paths['/feedback'].post as unknown as { requestBody: { content: Record<string, { schema: Json }> } })
          .requestBody.content['application/json'].schema,
      ) as never,
    );
    const many = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: [RECORD, RECORD, RECORD] });
    checkAnswer(doc, 'POST', '/v1/models/flight-delay:predict', many.status, many.json);
    const [a, b, c] = many.json.prediction_ids as string[];
    for (const body of [
      { prediction_id: a, label: WEATHER[0] },
      { prediction_id: b, actual: WEATHER[2] },
    ]) {
      assert.ok(request.safeParse(body).success, JSON.stringify(body));
      const res = await post(`${srv.url}/feedback`, body);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      checkAnswer(doc, 'POST', '/feedback', res.status, res.json);
    }
    const wrong = { prediction_id: c, label: 'hail' };
    assert.ok(!request.safeParse(wrong).success, 'the document refuses an unknown class');
    const res = await post(`${srv.url}/feedback`, wrong);
    assert.equal(res.status, 400);
    checkAnswer(doc, 'POST', '/feedback', res.status, res.json);
  } finally {
    await srv.close();
  }
});
