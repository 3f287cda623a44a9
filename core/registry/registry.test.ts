import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../platform/log.ts';
import { GcsRegistryBackend } from './gcs-backend.ts';
import { LocalRegistryBackend } from './local-backend.ts';
import { RegistryError } from './names.ts';
import { openRegistry, type OpenRegistryOptions } from './registry.ts';
import { checkState } from './state.ts';
import { makeBundle, steppingClock } from './testing/helpers.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const meta = {
  metrics: { roc_auc: 0.71 },
  params: { lr: 0.01 },
  data_md5: 'ecf8f6613d6b2a92c412c00f6a32657c.dir',
  git_commit: 'abc123',
  created_at: '2025-03-01T11:00:00Z',
  extra: { note: 'first' },
};
const who = { actor: 'ci-bot', source: 'pipeline' };

async function setup(opts: OpenRegistryOptions = {}) {
  const dir = await tempDir('registry-');
  const registry = await openRegistry('reg', {
    baseDir: dir,
    clock: steppingClock(),
    log: memoryLogger(),
    env: {},
    ...opts,
  });
  const bundle = await makeBundle(join(dir, 'bundle'), { 'a.txt': 'hello\n', 'b.txt': 'world\n' });
  return { dir, root: join(dir, 'reg'), registry, bundle };
}

test('register stores an immutable, read-only copy named by its DVC directory hash, plus metadata', async () => {
  const { root, registry, bundle } = await setup();
  const v1 = await registry.register('flight-delay', bundle, meta, who);
  assert.equal(v1.version, 1);
  assert.equal(v1.model, 'flight-delay');
  assert.equal(v1.registered_at, '2025-03-01T12:00:00.000Z');
  assert.equal(v1.registered_by, 'ci-bot');
  assert.equal(v1.source, 'pipeline');
  assert.deepEqual(
    [v1.metrics, v1.params, v1.git_commit, v1.created_at, v1.extra],
    [meta.metrics, meta.params, 'abc123', meta.created_at, meta.extra],
  );
  assert.deepEqual([v1.stages, v1.latest, v1.archived], [[], true, false]);
  // The DVC test vector of core/dvc/hash.test.ts: the same directory hashes to the same `.dir` md5 as `dvc add`.
  assert.equal(v1.bundle.md5, 'ecf8f6613d6b2a92c412c00f6a32657c.dir');
  assert.deepEqual(
    [v1.bundle.size, v1.bundle.nfiles, v1.bundle.path],
    [12, 2, 'bundles/flight-delay/ecf8f6613d6b2a92c412c00f6a32657c'],
  );
  assert.deepEqual(v1.bundle.files, [
    { relpath: 'a.txt', md5: 'b1946ac92492d2347c6235b4d2611184', size: 6 },
    { relpath: 'b.txt', md5: '591785b794601e212b260e25925636fd', size: 6 },
  ]);
  const stored = join(root, 'bundles', 'flight-delay', 'ecf8f6613d6b2a92c412c00f6a32657c');
  assert.equal((await stat(join(stored, 'a.txt'))).mode & 0o777, 0o444);
  assert.deepEqual(await readdir(join(root, 'models')), ['flight-delay.json']);

  // Changing the source afterwards does not change the version.
  await writeFile(join(bundle, 'a.txt'), 'changed\n');
  assert.equal(await readFile(join(stored, 'a.txt'), 'utf8'), 'hello\n');
  const v2 = await registry.register('flight-delay', bundle, {}, who);
  assert.equal(v2.version, 2);
  assert.notEqual(v2.bundle.md5, v1.bundle.md5);
  assert.deepEqual(await registry.getVersion('flight-delay', 1), { ...v1, latest: false });
  // Identical content is stored once and shared by both versions.
  const v3 = await registry.register('flight-delay', bundle, {}, who);
  assert.equal(v3.bundle.path, v2.bundle.path);
  assert.equal((await readdir(join(root, 'bundles', 'flight-delay'))).length, 2);
  assert.deepEqual(await registry.listModels(), ['flight-delay']);
  assert.deepEqual((await registry.verify('flight-delay')).problems, []);
});

test('bundles may nest directories; bad bundles and metadata are refused before anything is recorded', async () => {
  const { dir, registry } = await setup();
  const nested = await makeBundle(join(dir, 'nested'), {
    'model.json': '{}',
    'weights/group1-shard1of1.bin': new Uint8Array([1, 2, 3]),
    'spec/features.json': '[]',
  });
  const v = await registry.register('m', nested, {}, who);
  assert.deepEqual(
    v.bundle.files.map((f) => f.relpath),
    ['model.json', 'spec/features.json', 'weights/group1-shard1of1.bin'],
  );
  await assert.rejects(
    registry.register('m', join(dir, 'missing'), {}, who),
    /bundle directory .*missing does not exist/,
  );
  await assert.rejects(registry.register('m', await makeBundle(join(dir, 'empty'), {}), {}, who), /has no files/);
  await assert.rejects(
    registry.register('m', nested, { metrics: 'high' } as never, who),
    /invalid version metadata: metrics/,
  );
  await assert.rejects(registry.register('Bad Name', nested, {}, who), /invalid model name/);
  await assert.rejects(
    registry.register('m', await makeBundle(join(dir, 'odd'), { 'a\\b.bin': 'x' }), {}, who),
    /file name "a\\\\b\.bin" cannot be stored/,
  );
  assert.equal((await registry.listVersions('m')).length, 1);
});

test('actor comes from the option, else GITHUB_ACTOR, else USER, else unknown; source defaults to api', async () => {
  const { dir, bundle } = await setup();
  const open = (env: Record<string, string>) => openRegistry(join(dir, 'reg'), { env, log: memoryLogger() });
  assert.equal(
    (await (await open({ GITHUB_ACTOR: 'octocat', USER: 'bob' })).register('m', bundle, {}, { actor: 'alice' }))
      .registered_by,
    'alice',
  );
  assert.equal(
    (await (await open({ GITHUB_ACTOR: 'octocat', USER: 'bob' })).register('m', bundle, {})).registered_by,
    'octocat',
  );
  assert.equal((await (await open({ USER: 'bob' })).register('m', bundle, {})).registered_by, 'bob');
  const last = await (await open({})).register('m', bundle, {});
  assert.equal(last.registered_by, 'unknown');
  assert.equal(last.source, 'api');
});

test('stages: promote needs a reason, rollback walks back, every change is in the history', async () => {
  const { registry, bundle } = await setup();
  for (let i = 0; i < 3; i++) await registry.register('m', bundle, { metrics: { auc: i } }, who);
  assert.equal(await registry.getStage('m', 'production'), null);
  await assert.rejects(
    registry.setStage('m', 'production', 1, { actor: 'alice', source: 'cli' }),
    (e: RegistryError) => e.code === 'invalid' && /needs a reason/.test(e.message),
  );
  await assert.rejects(registry.setStage('m', 'production', 1, { reason: '   ' }), /needs a reason/);
  await assert.rejects(registry.setStage('m', 'production', 7, { reason: 'x' }), /no version 7/);
  await assert.rejects(registry.setStage('nope', 'production', 1, { reason: 'x' }), /no model 'nope' .*models: m/);
  await assert.rejects(registry.rollback('m', 'production', { reason: 'x' }), /nothing at stage 'production'/);
  await assert.rejects(registry.rollback('m', 'production', {}), /needs a reason/);

  const first = await registry.setStage('m', 'production', 1, { actor: 'alice', source: 'cli', reason: 'baseline' });
  assert.deepEqual([first.from, first.to, first.changed, first.event?.tags], [null, 1, true, ['m#production#1']]);
  await registry.setStage('m', 'staging', 3, { actor: 'alice', source: 'cli', reason: 'candidate' });
  await registry.setStage('m', 'production', 3, { actor: 'alice', source: 'cli', reason: 'better auc' });
  const again = await registry.setStage('m', 'production', 3, { reason: 'again' });
  assert.deepEqual([again.changed, again.event, again.from, again.to], [false, null, 3, 3]);
  assert.equal((await registry.getStage('m', 'production'))?.version, 3);
  assert.deepEqual((await registry.getVersion('m', 3)).stages, ['production', 'staging']);

  const back = await registry.rollback('m', 'production', {
    actor: 'oncall',
    source: 'cli',
    reason: 'latency regression',
  });
  assert.deepEqual(
    [back.from, back.to, back.event?.type, back.event?.reason, back.event?.actor],
    [3, 1, 'rollback', 'latency regression', 'oncall'],
  );
  assert.equal((await registry.getStage('m', 'production'))?.version, 1);
  await registry.demote('m', 'staging', { reason: 'done' });
  await registry.archive('m', 2, { reason: 'never deployed' });
  assert.equal((await registry.getVersion('m', 2)).archived, true);

  const history = await registry.history('m');
  assert.deepEqual(
    history.map((e) => `${e.seq} ${e.type} ${e.stage ?? '-'} ${e.from ?? '-'}→${e.to ?? '-'} ${e.actor}/${e.source}`),
    [
      '1 register - -→1 ci-bot/pipeline',
      '2 register - 1→2 ci-bot/pipeline',
      '3 register - 2→3 ci-bot/pipeline',
      '4 promote production -→1 alice/cli',
      '5 promote staging -→3 alice/cli',
      '6 promote production 1→3 alice/cli',
      '7 rollback production 3→1 oncall/cli',
      '8 demote staging 3→- unknown/api',
      '9 archive - -→- unknown/api',
    ],
  );
  // Times come from the injected clock, one tick per change.
  assert.deepEqual(
    history.slice(0, 2).map((e) => e.at),
    ['2025-03-01T12:00:00.000Z', '2025-03-01T12:00:01.000Z'],
  );
  assert.deepEqual(await registry.state('m'), {
    model: 'm',
    latest: 3,
    versions: 3,
    stages: { production: 1 },
    archived: [2],
    revision: 9,
    updated_at: history[8].at,
  });
  assert.deepEqual(
    (await registry.listVersions('m')).map((v) => [v.version, v.stages, v.archived, v.latest]),
    [
      [1, ['production'], false, false],
      [2, [], true, false],
      [3, [], false, true],
    ],
  );
  await assert.rejects(
    registry.requireStage('m', 'staging'),
    /no version at stage 'staging' \(stages: production=v1\)/,
  );
  await assert.rejects(registry.state('other'), (e: RegistryError) => e.code === 'not-found');
});

test('fetchBundle copies and verifies atomically; inPlace returns the stored read-only copy; damage is caught', async () => {
  const { dir, root, registry, bundle } = await setup();
  await registry.register('m', bundle, {}, who);
  const dest = join(dir, 'deploy', 'model');
  const fetched = await registry.fetchBundle('m', 1, dest);
  assert.deepEqual([fetched.dir, fetched.inPlace, fetched.version.version], [dest, false, 1]);
  assert.deepEqual((await readdir(dest)).sort(), ['a.txt', 'b.txt']);
  assert.equal((await stat(join(dest, 'a.txt'))).mode & 0o777, 0o644);
  const inPlace = await registry.fetchBundle('m', 1, dest, { inPlace: true });
  assert.equal(inPlace.dir, join(root, 'bundles', 'm', 'ecf8f6613d6b2a92c412c00f6a32657c'));
  assert.equal(inPlace.inPlace, true);

  // Damage the stored copy: fetching fails and leaves the previous download untouched.
  const storedFile = join(inPlace.dir, 'b.txt');
  await chmod(storedFile, 0o644);
  await writeFile(storedFile, 'w0rld\n');
  await assert.rejects(
    registry.fetchBundle('m', 1, dest),
    (e: RegistryError) =>
      e.code === 'corrupt' && /b\.txt: md5 .* expected 591785b794601e212b260e25925636fd/.test(e.message),
  );
  assert.equal(await readFile(join(dest, 'b.txt'), 'utf8'), 'world\n');
  await assert.rejects(registry.fetchBundle('m', 1, dest, { inPlace: true }), /damaged/);
  assert.deepEqual((await registry.verify('m')).problems, [
    'v1: b.txt: md5 18a3c635cfade86b5b0a0fdcc093d14f, expected 591785b794601e212b260e25925636fd',
  ]);
  await assert.rejects(registry.fetchBundle('m', 4, dest), /no version 4/);
});

test('concurrent registrations and promotions through separate handles lose nothing', async () => {
  const { dir, bundle } = await setup();
  const handles = await Promise.all(
    [0, 1, 2].map(() => openRegistry(join(dir, 'reg'), { log: memoryLogger(), env: {} })),
  );
  await handles[0].register('m', bundle, {}, who);
  await Promise.all(
    Array.from({ length: 15 }, async (_, i) => {
      const r = handles[i % 3];
      const v = await r.register('m', bundle, { extra: { i } }, who);
      await r.setStage('m', i % 2 ? 'staging' : 'production', v.version, { reason: `run ${i}` });
    }),
  );
  const state = await new LocalRegistryBackend(join(dir, 'reg')).readState('m');
  assert.ok(state);
  assert.deepEqual(
    state.versions.map((v) => v.version),
    Array.from({ length: 16 }, (_, i) => i + 1),
  );
  assert.deepEqual([...new Set(state.versions.map((v) => v.extra.i))].length, 16);
  assert.equal(state.history.length, 31);
  assert.deepEqual(checkState(state), []);
});

test('openRegistry: relative paths resolve against baseDir, file:// and gs:// work, other schemes are refused', async () => {
  const dir = await tempDir('registry-');
  assert.equal((await openRegistry('reg', { baseDir: dir })).describe(), join(dir, 'reg'));
  assert.equal((await openRegistry(`file://${dir}/x`)).describe(), join(dir, 'x'));
  const gcs = await openRegistry('gs://bucket/some/prefix/', {
    storage: {
      bucket: () => {
        throw new Error('unused');
      },
    },
  });
  assert.ok(gcs.backend instanceof GcsRegistryBackend);
  assert.equal(gcs.describe(), 'gs://bucket/some/prefix');
  await assert.rejects(openRegistry('s3://bucket/x'), /unsupported registry URL 's3:\/\/bucket\/x'/);
  assert.deepEqual(await (await openRegistry(join(dir, 'empty'))).listModels(), []);
});

test("dedupe: a bundle that differs only in created_at, git_commit, the refit's wall-clock seconds or the tfjs model name is the same version; calibration or weights make a new one", async () => {
  const { dir, registry } = await setup();
  const files = (o: {
    created?: string;
    commit?: string;
    refitSeconds?: number;
    modelName?: string;
    calibration?: object;
    weights?: string;
  }) => ({
    'bundle.json': JSON.stringify(
      {
        format_version: 1,
        created_at: o.created ?? '2026-01-01T00:00:00Z',
        git_commit: o.commit ?? 'aaa',
        metrics: { auc: 0.7 },
        recent_refit: { rows: 100, iterations: 30, seconds: o.refitSeconds ?? 7.7 },
        ...(o.calibration ? { calibration: o.calibration } : {}),
      },
      null,
      2,
    ),
    'model.json': JSON.stringify({
      modelTopology: { config: { name: o.modelName ?? 'model1', layers: [{ name: 'output' }] } },
    }),
    'weights.bin': o.weights ?? 'WWWW',
  });
  const reg = async (name: string, o: Parameters<typeof files>[0], dedupe = true) =>
    registry.register('m', await makeBundle(join(dir, name), files(o)), {}, { ...who, dedupe });
  const v1 = await reg('a', {});
  assert.equal(v1.version, 1);
  assert.match(v1.content_md5!, /^[0-9a-f]{32}$/);
  const again = await reg('b', {
    created: '2030-05-05T00:00:00Z',
    commit: 'bbb',
    modelName: 'model7',
    refitSeconds: 12.5,
  });
  assert.equal(again.version, 1, 'retrained identical model: no new version');
  assert.equal((await registry.history('m')).length, 1, 'nothing recorded');
  assert.equal(
    (await reg('c', { calibration: { method: 'platt', a: 1.2, b: -0.1 } })).version,
    2,
    'a calibration is part of the content',
  );
  assert.equal(
    (await reg('c2', { calibration: { method: 'platt', a: 1.2, b: -0.1 }, created: '2031-01-01T00:00:00Z' })).version,
    2,
  );
  assert.equal((await reg('d', { weights: 'WWWX' })).version, 3, 'other weights');
  const forced = await reg('e', {}, false);
  assert.deepEqual(
    [forced.version, forced.content_md5],
    [4, v1.content_md5],
    'without dedupe a new version is recorded, with the same content md5',
  );
});

test('dedupe holds under concurrent registrations of the same content through separate handles', async () => {
  const { dir } = await setup();
  const handles = await Promise.all(
    [0, 1, 2, 3].map(() => openRegistry('reg', { baseDir: dir, log: memoryLogger(), env: {} })),
  );
  const bundles = await Promise.all(
    [0, 1, 2, 3].map((i) =>
      makeBundle(join(dir, `b${i}`), {
        'bundle.json': JSON.stringify({ created_at: `2026-01-0${i + 1}T00:00:00Z` }),
        'w.bin': 'same',
      }),
    ),
  );
  const results = await Promise.all(handles.map((r, i) => r.register('m', bundles[i], {}, { ...who, dedupe: true })));
  assert.deepEqual(new Set(results.map((r) => r.version)), new Set([1]));
  assert.equal((await handles[0].listVersions('m')).length, 1);
  assert.deepEqual(checkState((await handles[0].backend.readState('m')) as never), []);
});

test('a caller that makes the git tags by GTO names them on the event; rollbackTarget says what rollback would restore', async () => {
  const { registry, bundle } = await setup();
  await registry.register('flight-delay', bundle, meta, who);
  await registry.register('flight-delay', await makeBundle(join(bundle, '..', 'b2'), { 'c.txt': '2' }), meta, who);
  const own = await registry.setStage('flight-delay', 'production', 1, { ...who, reason: 'first' });
  assert.deepEqual(own.event!.tags, ['flight-delay#production#1'], "by default, the registry's own counter");
  const named = await registry.setStage('flight-delay', 'production', 2, {
    ...who,
    reason: 'better',
    tags: ['flight-delay#production#7'],
  });
  assert.deepEqual(named.event!.tags, ['flight-delay#production#7']);
  assert.equal(await registry.rollbackTarget('flight-delay', 'production'), 1);
  assert.equal((await registry.getStage('flight-delay', 'production'))!.version, 2, 'asking changes nothing');
  const demoted = await registry.demote('flight-delay', 'production', { ...who, tags: ['flight-delay#production!#8'] });
  assert.deepEqual(demoted.event!.tags, ['flight-delay#production!#8']);
  await assert.rejects(registry.rollbackTarget('flight-delay', 'staging'), /nothing at stage 'staging' to roll back/);
});
