import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../../core/platform/log.ts';
import { FakeGcs } from '../../harness/testing/core/fake-gcs.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';
import { openRegistry } from '../../core/registry/index.ts';
import { getRunResults, putRunResults, runResultsKey } from './run-store.ts';
import { makeBundle } from '../../core/registry/testing/helpers.ts';

const FILES = [
  { path: 'dvc.lock', data: Buffer.from("schema: '2.0'\nstages: {}\n") },
  { path: 'metrics/report/roc.png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x0a]) },
  { path: 'metrics/evaluate.json', data: Buffer.from('{"roc_auc": 0.78}\n') },
];

for (const where of ['local', 'gs'] as const) {
  test(`run results (${where}): stored beside a version, read back byte for byte; none stored is null; unknown versions refused`, async () => {
    const dir = await tempDir('run-results-');
    const gcs = new FakeGcs();
    const registry = await openRegistry(where === 'gs' ? 'gs://bucket/registry' : join(dir, 'registry'), {
      log: memoryLogger(),
      storage: gcs,
      env: {},
    });
    const bundle = await makeBundle(join(dir, 'bundle'), { 'model.json': '{}' });
    const v1 = await registry.register('m', bundle, {}, { actor: 'job' });
    assert.equal(await getRunResults(registry, 'm', 1), null);
    const at = new Date('2026-01-02T03:04:05Z');
    await putRunResults(registry, 'm', 1, FILES, { actor: 'trainer', at });
    const back = await getRunResults(registry, 'm', 1);
    assert.deepEqual(
      back?.files.map((f) => [f.path, f.data.toString('hex')]),
      FILES.map((f) => [f.path, f.data.toString('hex')]),
    );
    assert.deepEqual(
      [back?.bundle_md5, back?.stored_by, back?.stored_at],
      [v1.bundle.md5, 'trainer', at.toISOString()],
    );
    await assert.rejects(putRunResults(registry, 'm', 2, FILES, { actor: 'x', at }), /model 'm' has no version 2/);
    // A second run's results replace the first's whole.
    await putRunResults(registry, 'm', 1, FILES.slice(0, 1), { actor: 'again', at });
    assert.deepEqual(
      (await getRunResults(registry, 'm', 1))?.files.map((f) => f.path),
      ['dvc.lock'],
    );
    // Stored outside bundles/: verify and gc see nothing unused.
    assert.deepEqual((await registry.verify('m')).orphans, []);
    assert.deepEqual(await registry.gc('m', { minAgeMs: 0 }), []);
  });
}

test('run results: a damaged stored file is refused, naming it', async () => {
  const dir = await tempDir('run-results-');
  const registry = await openRegistry(join(dir, 'registry'), { log: memoryLogger(), env: {} });
  await registry.register('m', await makeBundle(join(dir, 'bundle'), { 'model.json': '{}' }), {}, { actor: 'job' });
  await putRunResults(registry, 'm', 1, FILES, { actor: 'trainer', at: new Date() });
  const path = join(dir, 'registry', ...runResultsKey('m', 1).split('/'));
  const doc = JSON.parse(await readFile(path, 'utf8'));
  doc.files[2].base64 = Buffer.from('{"roc_auc": 0.99}\n').toString('base64');
  await writeFile(path, JSON.stringify(doc));
  await assert.rejects(getRunResults(registry, 'm', 1), /metrics\/evaluate\.json is damaged/);
  await writeFile(path, '{"schema": 1');
  await assert.rejects(getRunResults(registry, 'm', 1), /not valid JSON/);
});
