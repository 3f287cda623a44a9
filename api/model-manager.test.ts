import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Registry as PromRegistry } from 'prom-client';
import { ModelManager } from './model-manager.ts';
import { createMetrics } from './prometheus.ts';
import { registryWithVersions } from '../harness/testing/api/support.ts';
import { selectBackend } from '../core/model/tfjs-backend.ts';
import { memoryLogger } from '../core/platform/log.ts';
import { openRegistry } from '../core/registry/index.ts';
import { tempDir } from '../harness/testing/lifecycle.ts';

async function manager(url: string, root: string, stage: string, log = memoryLogger()) {
  const { tf, backend } = await selectBackend({});
  const metrics = createMetrics({ servedModel: () => null, liveQuality: () => null }, new PromRegistry(), {
    defaultMetrics: false,
  });
  return new ModelManager({
    registry: await openRegistry(url, {}),
    tf,
    backend,
    name: 'flight-delay',
    stage,
    cacheDir: join(root, 'cache'),
    metrics,
    log,
    goldenTolerance: 1e-6,
  });
}

test('a stage that points nowhere names the version waiting in no stage and how to assign it', async () => {
  // v1 is production, v2 registered only (what `npm run pipeline:start` leaves).
  const { url, root } = await registryWithVersions([1, 2]);
  const r = await (await manager(url, root, 'staging')).refresh();
  assert.equal(r.status, 'no-version');
  assert.match(r.detail!, /^no staging version of flight-delay in .*; v2 is registered but in no stage: /);
  assert.match(r.detail!, /`npm run registry -- promote 2 staging --reason "…"`, or run `npm start`/);
});

test('with no version at all the hint is to train one', async () => {
  const root = await tempDir('model-manager-');
  const r = await (await manager(join(root, 'registry'), root, 'production')).refresh();
  assert.equal(r.status, 'no-version');
  assert.match(r.detail!, /; train one with `npm start`$/);
});

test('a stage emptied under the served model keeps it served and warns once, until a version is assigned again', async () => {
  const { url, root } = await registryWithVersions([1, 2]);
  const log = memoryLogger();
  const m = await manager(url, root, 'production', log);
  assert.equal((await m.refresh()).version, 1);
  const registry = await openRegistry(url, {});
  await registry.demote('flight-delay', 'production', { reason: 'test' });
  const warnings = () => log.lines.filter((l) => /production stage of flight-delay is empty/.test(l));
  for (let i = 0; i < 3; i++) {
    const r = await m.refresh();
    assert.equal(r.status, 'no-version');
    assert.equal(r.version, 1, 'still served');
  }
  assert.equal(warnings().length, 1, log.lines.join('\n'));
  assert.match(warnings()[0], /still serving v1 until a version is assigned to production/);
  await registry.setStage('flight-delay', 'production', 1, { reason: 'back' });
  assert.equal((await m.refresh()).status, 'unchanged');
  await registry.demote('flight-delay', 'production', { reason: 'again' });
  await m.refresh();
  assert.equal(warnings().length, 2, 'warned again after the stage was emptied again');
});
