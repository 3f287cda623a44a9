import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { post, registryWithVersions, sampleRecords, startTestServer } from '../harness/testing/api/support.ts';
import { makeBlendBundle } from '../harness/testing/api/blend-bundle.ts';
import { loadBundle } from '../core/model/bundle.ts';
import { selectBackend } from '../core/model/tfjs-backend.ts';

test('a blend bundle is served like any other: its golden outputs exactly, and a NaN weight in one member refuses it', async () => {
  const { url, root, registry } = await registryWithVersions([1]);
  const dir = join(root, 'blend');
  await makeBlendBundle(dir, [2, 3]);
  await registry.register('flight-delay', dir, { metrics: {} }, { source: 'test' });
  const bad = join(root, 'blend-nan');
  await makeBlendBundle(bad, [4, 5]);
  const weights = join(bad, 'members', '1', 'weights.bin');
  const bytes = await readFile(weights);
  await chmod(weights, 0o644);
  await writeFile(weights, Buffer.from(new Float32Array(bytes.length / 4).fill(NaN).buffer));
  await registry.register('flight-delay', bad, { metrics: {} }, { source: 'test' });
  const srv = await startTestServer(url, root);
  try {
    await registry.setStage('flight-delay', 'production', 2, { source: 'test', reason: 'a blend' });
    assert.equal((await srv.manager.refresh()).status, 'swapped');
    const info = (await (await fetch(`${srv.url}/v1/models/flight-delay`)).json()) as Record<string, unknown>;
    assert.equal(info.model_type, 'blend');
    assert.deepEqual(info.members, [
      { candidate: 'seed-2', model_type: 'mlp', weight: 0.25 },
      { candidate: 'seed-3', model_type: 'mlp', weight: 0.75 },
    ]);
    const golden = srv.manager.current!.bundle.golden;
    const res = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: golden.map((g) => g.record) });
    assert.equal(res.status, 200);
    assert.equal(res.json.model_version, 2);
    assert.deepEqual(
      res.json.predictions.map((p: { probability: number }) => p.probability),
      golden.map((g) => g.expected),
    );
    const { tf } = await selectBackend({});
    const local = await loadBundle(tf, dir);
    try {
      const records = sampleRecords(12);
      const served = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: records });
      assert.deepEqual(
        served.json.predictions.map((p: { probability: number }) => p.probability),
        local.predictRecords(records).predictions,
      );
    } finally {
      local.dispose();
    }
    await registry.setStage('flight-delay', 'production', 3, { source: 'test', reason: 'a broken blend' });
    const refused = await srv.manager.refresh();
    assert.equal(refused.status, 'refused');
    assert.match(refused.detail!, /members\/1: weight \S+ holds \d+ non-finite/);
    // And back from a blend to a single model: the swap path drops the blend's members with it.
    await registry.setStage('flight-delay', 'production', 1, { source: 'test', reason: 'back to one model' });
    assert.equal((await srv.manager.refresh()).status, 'swapped');
    const single = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: sampleRecords(3) });
    assert.equal(single.status, 200);
    assert.equal(single.json.model_version, 1);
    const singleInfo = (await (await fetch(`${srv.url}/v1/models/flight-delay`)).json()) as Record<string, unknown>;
    assert.equal(singleInfo.members, undefined);
    assert.equal(singleInfo.model_type, 'mlp');
  } finally {
    await srv.close();
  }
});
