import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../platform/log.ts';
import { FakeGcs } from '../../harness/testing/core/fake-gcs.ts';
import type { GcsClient } from '../platform/gcs.ts';
import { RegistryError } from './names.ts';
import { openRegistry, type OpenRegistryOptions } from './registry.ts';
import { parseModelState } from './schema.ts';
import { checkState } from './state.ts';
import { makeBundle, steppingClock } from './testing/helpers.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const URL = 'gs://models-bucket/registry';
const STATE = 'models-bucket/registry/models/m.json';
const reason = { reason: 'test', actor: 'alice', source: 'test' };
const fastRetry = { sleep: () => new Promise<void>((r) => setImmediate(r)) };

async function setup(extra: OpenRegistryOptions = {}) {
  const fake = new FakeGcs();
  const dir = await tempDir('registry-gcs-');
  const bundle = await makeBundle(join(dir, 'bundle'), { 'a.txt': 'hello\n', 'sub/b.txt': 'world\n' });
  const open = (opts: OpenRegistryOptions = {}) =>
    openRegistry(URL, {
      storage: fake,
      log: memoryLogger(),
      env: {},
      clock: steppingClock(),
      retry: fastRetry,
      ...extra,
      ...opts,
    });
  return { fake, dir, bundle, open, registry: await open() };
}

function storedState(fake: FakeGcs) {
  return parseModelState(fake.objects.get(STATE)!.data.toString(), STATE);
}

test("the real @google-cloud/storage client fits the registry's GCS interface", async () => {
  const { Storage } = await import('@google-cloud/storage');
  const client: GcsClient = new Storage({ projectId: 'type-check-only' });
  assert.equal(typeof client.bucket('b').file('x').save, 'function');
});

test('fake GCS: generations and ifGenerationMatch preconditions behave like GCS', async () => {
  const fake = new FakeGcs();
  const file = fake.bucket('b').file('doc');
  await assert.rejects(file.getMetadata(), (e: { code: number }) => e.code === 404);
  await assert.rejects(file.download(), (e: { code: number }) => e.code === 404);
  await file.save('one', { preconditionOpts: { ifGenerationMatch: 0 } });
  const g1 = (await file.getMetadata())[0].generation!;
  await assert.rejects(
    file.save('again', { preconditionOpts: { ifGenerationMatch: 0 } }),
    (e: { code: number }) => e.code === 412,
  );
  await assert.rejects(
    file.save('stale', { preconditionOpts: { ifGenerationMatch: String(Number(g1) - 1) } }),
    (e: { code: number }) => e.code === 412,
  );
  await file.save('two', { preconditionOpts: { ifGenerationMatch: g1 } });
  const g2 = (await file.getMetadata())[0].generation!;
  assert.ok(Number(g2) > Number(g1));
  await assert.rejects(
    file.save('late', { preconditionOpts: { ifGenerationMatch: g1 } }),
    (e: { code: number }) => e.code === 412,
  );
  assert.equal((await file.download())[0].toString(), 'two');
  assert.equal(fake.preconditionFailures, 3);
});

test('GCS backend: same API and layout as local; state is created with generation 0, then CAS on its generation', async () => {
  const { fake, dir, bundle, registry } = await setup();
  const v1 = await registry.register('m', bundle, { metrics: { auc: 0.7 } }, reason);
  assert.equal(v1.bundle.md5, `${v1.bundle.path.split('/').at(-1)}.dir`);
  const v2 = await registry.register('m', bundle, {}, reason);
  assert.equal(v2.version, 2);
  await registry.setStage('m', 'production', 1, reason);
  await registry.setStage('m', 'production', 2, reason);
  assert.equal((await registry.rollback('m', 'production', reason)).to, 1);
  assert.deepEqual(await registry.listModels(), ['m']);
  const keys = [...fake.objects.keys()].sort();
  assert.deepEqual(keys, [
    `models-bucket/registry/${v1.bundle.path}/a.txt`,
    `models-bucket/registry/${v1.bundle.path}/sub/b.txt`,
    STATE,
  ]);
  const saves = fake.calls.filter((c) => c.startsWith('save '));
  assert.equal(saves.length, 5);
  assert.match(saves[0], /ifGenerationMatch=0$/);
  assert.ok(
    saves.slice(1).every((s) => /ifGenerationMatch=\d{10,}$/.test(s)),
    saves.join('\n'),
  );
  // Identical bundle: the second registration uploaded nothing.
  assert.equal(fake.calls.filter((c) => c.startsWith('upload ')).length, 2);

  const fetched = await registry.fetchBundle('m', 1, join(dir, 'out'), { inPlace: true });
  assert.equal(fetched.inPlace, false, 'GCS has no local copy to use in place');
  assert.equal(await readFile(join(dir, 'out', 'sub', 'b.txt'), 'utf8'), 'world\n');
  assert.deepEqual(await registry.verify('m'), { model: 'm', ok: true, problems: [], versionsChecked: 2, orphans: [] });

  // A missing object is reported by verify, and a fetch fails without touching the old download.
  fake.objects.delete(`models-bucket/registry/${v1.bundle.path}/a.txt`);
  assert.deepEqual((await registry.verify('m')).problems, ['v1: a.txt: missing', 'v2: a.txt: missing']);
  await assert.rejects(
    registry.fetchBundle('m', 1, join(dir, 'out')),
    (e: RegistryError) => e.code === 'corrupt' && /a\.txt is missing/.test(e.message),
  );
  assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['a.txt', 'sub']);
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.startsWith('.')),
    [],
    'the partial download was removed',
  );
});

test('two writers race on the same generation: one gets 412, re-reads, and neither update is lost', async () => {
  const { fake, bundle, open } = await setup();
  const a = await open();
  const b = await open();
  await a.register('m', bundle, {}, reason);
  await a.register('m', bundle, {}, reason);
  // Hold every state save until two are in flight, so both writers read the same generation.
  let waiting: (() => void)[] = [];
  fake.hooks.beforeSave = (name) =>
    name.endsWith('models/m.json') && fake.preconditionFailures === 0
      ? new Promise<void>((release) => {
          waiting.push(release);
          if (waiting.length === 2) {
            waiting.forEach((r) => r());
            waiting = [];
          }
        })
      : undefined;
  const [pa, pb] = await Promise.all([
    a.setStage('m', 'production', 1, { ...reason, actor: 'writer-a' }),
    b.setStage('m', 'staging', 2, { ...reason, actor: 'writer-b' }),
  ]);
  assert.equal(fake.preconditionFailures, 1);
  assert.deepEqual([pa.to, pb.to], [1, 2]);
  const state = storedState(fake);
  assert.deepEqual(state.stages, { production: 1, staging: 2 });
  assert.deepEqual(
    state.history
      .slice(2)
      .map((e) => e.actor)
      .sort(),
    ['writer-a', 'writer-b'],
  );
  assert.deepEqual(checkState(state), []);
});

test('many concurrent writers on GCS: every registration gets its own version, history complete', async () => {
  const { fake, bundle, open } = await setup();
  const handles = await Promise.all([0, 1, 2, 3].map(() => open()));
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => handles[i % 4].register('m', bundle, { extra: { i } }, reason)),
  );
  assert.deepEqual(
    results.map((r) => r.version).sort((x, y) => x - y),
    Array.from({ length: 12 }, (_, i) => i + 1),
  );
  const state = storedState(fake);
  assert.equal(state.history.length, 12);
  assert.deepEqual(
    state.versions.map((v) => v.extra.i).sort((x, y) => Number(x) - Number(y)),
    Array.from({ length: 12 }, (_, i) => i),
  );
  assert.deepEqual(checkState(state), []);
  assert.ok(fake.preconditionFailures > 0, 'the writers did collide');
});

test('a write whose response was lost is not applied twice', async () => {
  const { fake, bundle, registry } = await setup();
  let lose = 1;
  fake.hooks.loseResponse = (name) => name.endsWith('models/m.json') && lose-- > 0;
  const v = await registry.register('m', bundle, {}, reason);
  assert.equal(v.version, 1);
  lose = 1;
  const change = await registry.setStage('m', 'production', 1, reason);
  assert.equal(change.changed, true);
  const state = storedState(fake);
  assert.deepEqual(
    state.history.map((e) => e.type),
    ['register', 'promote'],
  );
  assert.deepEqual(checkState(state), []);
});

test('GCS backend gives up after the configured attempts, and does not retry permanent errors', async () => {
  const { fake, bundle, registry, open } = await setup();
  await registry.register('m', bundle, {}, reason);
  // Another writer always wins the race.
  fake.hooks.beforeSave = () => void (fake.objects.get(STATE)!.generation += 1);
  const impatient = await open({ retry: { ...fastRetry, attempts: 3 } });
  await assert.rejects(
    impatient.setStage('m', 'production', 1, reason),
    (e: RegistryError) => e.code === 'conflict' && /after 3 attempts/.test(e.message),
  );
  assert.equal(fake.preconditionFailures, 3);
  fake.hooks.beforeSave = () => {
    throw Object.assign(new Error('Forbidden'), { code: 403 });
  };
  await assert.rejects(registry.setStage('m', 'production', 1, reason), /Forbidden/);
  fake.hooks.beforeSave = undefined;
  assert.deepEqual(storedState(fake).stages, {});
});

test('a registration that dies mid-upload leaves the state untouched; the next one reuses the uploaded objects', async () => {
  const { fake, dir, open } = await setup();
  const big = await makeBundle(
    join(dir, 'big'),
    Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`part-${i}.bin`, Buffer.alloc(1000, i)])),
  );
  const crashing = await open({
    faultHook: (p) => {
      if (p === 'bundle:partial') throw new Error('crash');
    },
  });
  await assert.rejects(crashing.register('m', big, {}, reason), /crash/);
  assert.equal(fake.objects.has(STATE), false);
  const uploadedBefore = fake.calls.filter((c) => c.startsWith('upload ')).length;
  assert.ok(uploadedBefore >= 3, `${uploadedBefore} uploads`);
  const v = await (await open()).register('m', big, {}, reason);
  assert.equal(v.version, 1);
  assert.equal(fake.calls.filter((c) => c.startsWith('upload ')).length, 6, 'only the missing objects were uploaded');
  assert.deepEqual((await (await open()).verify('m')).problems, []);
});
