import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineStage } from './contract.ts';
import { testParams, quietLog } from '../../harness/testing/training/fixtures.ts';
import { trainedRepo } from '../../harness/testing/training/pipeline.ts';
import { evaluate } from '../stages/evaluate.ts';
import { register } from '../stages/register.ts';
import { report } from '../stages/report.ts';
import { METRICS_FILES, readMetrics, type MetricsFileKind } from '../../core/schemas/metrics-files.ts';
import { PIPELINE_STAGES } from './index.ts';

const stage = defineStage({
  name: 'demo',
  entry: 'training/stages/demo.ts',
  inputs: [],
  paramKeys: ['validate', 'profile.bins', 'register.model_name'],
  env: { DEMO_URL: 'where the demo writes' },
  outputs: [],
});

test('a params view hands over the declared keys and throws, naming the key and the contract, on any other', async () => {
  const all = await testParams();
  const view = stage.params(all);
  assert.deepEqual(view.validate, all.validate);
  assert.equal(view.profile.bins, all.profile.bins);
  assert.equal(view.register?.model_name, all.register!.model_name);
  const undeclared = view as unknown as Record<string, Record<string, unknown>>;
  assert.throws(
    () => undeclared.drift,
    /stage 'demo' read params\.yaml key 'drift', which its contract does not declare; add 'drift' to the paramKeys of training\/contracts\/demo\.ts/,
  );
  assert.throws(() => undeclared.profile.top_categories, /key 'profile\.top_categories'/);
  assert.throws(() => undeclared.register.registry, /key 'register\.registry'/);
  // Enumerating, copying or printing sees only what was declared.
  assert.deepEqual(Object.keys(view).sort(), ['profile', 'register', 'validate']);
  assert.deepEqual(JSON.parse(JSON.stringify(view.profile)), { bins: all.profile.bins });
  assert.equal('drift' in view, false);
  // A view of a view is the same view; an absent optional section reads as absent.
  assert.equal(stage.params(view).profile.bins, all.profile.bins);
  assert.equal(stage.params({ ...all, register: undefined }).register, undefined);
});

test('a contract reads only its declared environment variables', () => {
  assert.deepEqual(stage.readEnv({ DEMO_URL: 'gs://b/p', HOME: '/root' }), { DEMO_URL: 'gs://b/p' });
  assert.deepEqual(stage.readEnv({}), { DEMO_URL: undefined });
});

test('every JSON a contract declares has one schema in core/schemas/metrics-files.ts, owned by the stage that writes it', () => {
  const declared = PIPELINE_STAGES.flatMap((st) =>
    st.outputs.filter((o) => o.path.endsWith('.json')).map((o) => `${o.path} <- ${st.name}`),
  ).sort();
  const schemas = Object.values(METRICS_FILES)
    .map((f) => `${f.path} <- ${f.stage}`)
    .sort();
  assert.deepEqual(declared, schemas);
});

test('every pipeline stage runs on fixture data reading only the params its contract declares', async () => {
  // Each stage narrows what it is given to its contract's view, so an undeclared read throws here.
  const { repo, params } = await trainedRepo();
  const log = quietLog();
  await evaluate({ repoRoot: repo, params, log });
  const registered = await register({ repoRoot: repo, params, log });
  assert.equal(registered.decision, 'promoted');
  const page = await report({ repoRoot: repo, log });
  assert.match(page.markdown, /## Headline/);
  // What the stages wrote is what the shared schemas describe.
  for (const kind of Object.keys(METRICS_FILES) as MetricsFileKind[])
    assert.ok(await readMetrics(kind, { repo }), `${kind} was written`);
});
