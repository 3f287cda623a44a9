import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeBundle, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';

test('model info shows bundle.json as its schema reads it; a malformed bundle.json is refused naming the file and field', async () => {
  const { url, root, registry } = await registryWithVersions([1]);
  const dir = join(root, 'bad-meta');
  await makeBundle(dir, 7);
  const metaFile = join(dir, 'bundle.json');
  const meta = JSON.parse(await readFile(metaFile, 'utf8'));
  await chmod(metaFile, 0o644);
  await writeFile(metaFile, JSON.stringify({ ...meta, metrics: { validation: [0.7] } }));
  await registry.register('flight-delay', dir, { metrics: {} }, { source: 'test' });
  const srv = await startTestServer(url, root);
  try {
    const info = (await (await fetch(`${srv.url}/v1/models/flight-delay`)).json()) as {
      version: number;
      metrics: unknown;
      git_commit: unknown;
    };
    assert.equal(info.version, 1);
    // KServe V1's list of served models.
    assert.deepEqual(await (await fetch(`${srv.url}/v1/models`)).json(), { models: ['flight-delay'] });
    assert.deepEqual(info.metrics, { validation: {} }, 'the schema fills in what an older writer left out');
    await registry.setStage('flight-delay', 'production', 2, { source: 'test', reason: 'malformed metadata' });
    const r = await srv.manager.refresh();
    assert.equal(r.status, 'refused');
    assert.match(r.detail!, /bundle\.json: field `metrics\.validation`: .*re-run the train stage/);
    assert.equal(
      ((await (await fetch(`${srv.url}/v1/models/flight-delay`)).json()) as { version: number }).version,
      1,
      'v1 keeps serving',
    );
  } finally {
    await srv.close();
  }
});
