import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend, parseBackendOverride, defaultLoaders, type BackendLoaders } from './tfjs-backend.ts';
import { memoryLogger } from '../platform/log.ts';

const failNative: BackendLoaders['tensorflow'] = () =>
  Promise.reject(new Error("Cannot find package '@tensorflow/tfjs-node'"));

test('falls back from native to wasm and logs the choice', async () => {
  const log = memoryLogger();
  const choice = await selectBackend({ log, override: 'auto', loaders: { ...defaultLoaders, tensorflow: failNative } });
  assert.equal(choice.backend, 'wasm');
  assert.equal(choice.skipped[0].backend, 'tensorflow');
  assert.match(log.lines.at(-1)!, /"backend":"wasm"/);
  const y = choice.tf.tensor([1, 2, 3]).square().dataSync();
  assert.deepEqual(Array.from(y), [1, 4, 9]);
});

test('the real loader without tfjs-node installed: one short line, no resolver error or file paths', async () => {
  const log = memoryLogger();
  const choice = await selectBackend({ log, override: 'auto', loaders: { ...defaultLoaders } });
  const native = choice.skipped.find((s) => s.backend === 'tensorflow');
  // This machine has no tfjs-node (it cannot download libtensorflow); where it is installed, native wins.
  if (choice.backend === 'tensorflow') return assert.equal(native, undefined);
  assert.match(native!.reason, /^not installed \(optional: `npm install @tensorflow\/tfjs-node`/);
  assert.equal(log.lines.length, 1);
  assert.doesNotMatch(log.lines[0], /Cannot find package|node_modules|imported from/);
});

test('falls through to cpu when wasm cannot start', async () => {
  const choice = await selectBackend({
    override: 'auto',
    loaders: {
      tensorflow: failNative,
      wasm: () => Promise.reject(new Error('no wasm')),
      cpu: async () => {},
    },
  });
  assert.equal(choice.backend, 'cpu');
  assert.deepEqual(
    choice.skipped.map((s) => s.backend),
    ['tensorflow', 'wasm'],
  );
});

test('a forced backend that cannot start is an error naming the variable', async () => {
  await assert.rejects(
    selectBackend({
      override: 'native',
      loaders: { tensorflow: failNative, wasm: async () => {}, cpu: async () => {} },
    }),
    /TFJS_BACKEND=tensorflow was requested but cannot start/,
  );
});

test('override parsing accepts aliases and rejects typos', () => {
  assert.equal(parseBackendOverride('native'), 'tensorflow');
  assert.equal(parseBackendOverride(' WASM '), 'wasm');
  assert.equal(parseBackendOverride('auto'), undefined);
  assert.equal(parseBackendOverride(undefined), undefined);
  assert.throws(() => parseBackendOverride('gpu'), /not a backend/);
});

test('in one process the choice is said once at info; a later caller (another stage of the pipeline) has it at debug', async () => {
  const first = memoryLogger();
  const a = await selectBackend({ log: first });
  const later = memoryLogger();
  const b = await selectBackend({ log: later });
  assert.equal(a.backend, b.backend);
  assert.deepEqual(
    [...first.lines, ...later.lines].map((l) => (JSON.parse(l) as { level: string }).level),
    ['info', 'debug'],
  );
});
