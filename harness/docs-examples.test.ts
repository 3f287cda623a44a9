/**
 * The example requests and answers shown in README.md and docs/*.md are what the code takes and
 * gives: each request's record has exactly the input columns of the default params.yaml, and each
 * shown answer has exactly the fields and types of the answer a real API (started here on a test
 * model) gives to the same route. The values come from a real run (`npm run docs:examples --
 * --write` after `npm start`); this test keeps their form from going stale.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadParams } from '../core/schemas/params.ts';
import { RECORD, registryWithVersions, startTestServer } from './testing/api/support.ts';
import {
  REPO,
  ask,
  formatProblems,
  isPrediction,
  parseCurl,
  parseExamples,
  readExamples,
  shapeOf,
  withAnswer,
  type AskSession,
} from './docs-examples.ts';

const examples = await readExamples();
const setup = (async () => {
  const reg = await registryWithVersions([1]);
  return startTestServer(reg.url, reg.root);
})();
after(async () => (await setup).close());

test('the docs show examples, each with a request and a JSON answer', () => {
  const where = examples.map((e) => `${e.file}#${e.name}`);
  assert.ok(where.includes('README.md#predict-one'), where.join(' '));
  assert.ok(
    where.some((w) => w.startsWith('docs/serving.md#')),
    where.join(' '),
  );
  for (const e of examples)
    assert.notEqual(
      e.answer,
      undefined,
      `${e.file} ${e.name}: the answer is not JSON; npm run docs:examples -- --write`,
    );
});

test('every example request sends records with exactly the input columns of params.yaml', async () => {
  const params = await loadParams(join(REPO, 'params.yaml'));
  const inputs = Object.keys(params.validate.schema)
    .filter((c) => c !== params.task.target)
    .sort();
  for (const e of examples.filter(isPrediction)) {
    const body = e.body as { instances?: unknown[] } | undefined;
    const records = body === undefined ? [] : Array.isArray(body.instances) ? body.instances : [body];
    for (const r of records)
      assert.deepEqual(Object.keys(r as object).sort(), inputs, `${e.file} ${e.name}: the record's fields`);
  }
});

test('every shown answer has exactly the fields and types the API answers with', async () => {
  const srv = await setup;
  const session: AskSession = {};
  for (const e of examples) {
    // The test model takes the fixture's columns: the same route, asked with the fixture's record.
    const body = e.body as { instances?: unknown[] } | undefined;
    const asked = !isPrediction(e)
      ? e
      : { ...e, body: Array.isArray(body?.instances) ? { instances: [RECORD] } : RECORD };
    const real = await ask(srv.url, asked, session);
    assert.deepEqual(formatProblems(real), [], `${e.file} ${e.name}: the API's own ids fit PREDICTION_ID_PATTERN`);
    assert.deepEqual(
      shapeOf(e.answer),
      shapeOf(real),
      `${e.file} ${e.name}: the shown answer's fields differ from the API's; npm start, then npm run docs:examples -- --write`,
    );
  }
});

test('every prediction id a shown answer holds has the signed form the API issues', () => {
  const withIds = examples.filter((e) => JSON.stringify(e.answer ?? null).includes('prediction_id'));
  assert.ok(withIds.length >= 3, withIds.map((e) => e.name).join(' '));
  for (const e of withIds)
    assert.deepEqual(
      formatProblems(e.answer),
      [],
      `${e.file} ${e.name}: npm start, then npm run docs:examples -- --write`,
    );
});

test('formatProblems: signed ids pass; a UUID, a number, a cut id are named with where they are; a null row id passes', () => {
  const id = `r0a1b2c3d.${'A'.repeat(70)}`;
  assert.deepEqual(formatProblems({ prediction_id: id, prediction_ids: [id, null], x: { prediction_id: id } }), []);
  const problems = formatProblems({
    prediction_id: 'ce1af4fa-f0af-4d00-9949-f07dd12140e4',
    prediction_ids: [id, 7],
    results: [{ prediction_id: id.slice(0, -1) }],
  });
  assert.deepEqual(
    problems.map((p) => p.split(' is ')[0]),
    ['$.prediction_id', '$.prediction_ids[1]', '$.results[0].prediction_id'],
  );
  assert.match(problems[0], /"ce1af4fa-f0af-4d00-9949-f07dd12140e4", not a signed prediction id/);
});

test('the example parser: curl forms, placeholders, a request without its answer, rewriting one answer', () => {
  assert.deepEqual(parseCurl('curl -s http://h:1/p?q=1 \\\n  -d \'{"a":1}\'', 'x'), {
    method: 'POST',
    path: '/p?q=1',
    body: { a: 1 },
  });
  assert.deepEqual(parseCurl('curl -s http://h:1/healthz', 'x'), { method: 'GET', path: '/healthz' });
  assert.throws(() => parseCurl("curl -s http://h/p -d '{oops'", 'f.md example e'), /f\.md example e: the -d body/);
  const text = [
    '<!-- example-request: a -->',
    '```sh',
    'curl -s http://h/x',
    '```',
    '<!-- example-answer: a -->',
    '```json',
    'TO FILL',
    '```',
    '<!-- example-request: b -->',
    '```sh',
    'curl -s http://h/y',
    '```',
  ].join('\n');
  assert.throws(() => parseExamples('f.md', text), /f\.md example b: needs both/);
  const [a] = parseExamples('f.md', text.split('<!-- example-request: b')[0]);
  assert.equal(a.answer, undefined);
  const filled = withAnswer(text, 'a', { ok: [1, 2] });
  assert.match(filled, /```json\n\{"ok":\[1,2\]\}\n```/);
  assert.deepEqual(shapeOf({ b: [1, 'x'], a: null }), { a: 'null', b: ['mixed', '"number"', '"string"'] });
});
