import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBundle, sampleRecords, SCHEMA } from '../../harness/testing/api/support.ts';
import { recordsToTable } from '../data/records.ts';
import { selectBackend } from './tfjs-backend.ts';
import { loadBundle, outputsFromModel, saveBundle, type SingleModel } from './bundle.ts';
import { blendModel, blendOutputs } from './blend.ts';
import { applyCalibration } from './calibration.ts';
import { seededRandom } from '../platform/random.ts';

test('blendOutputs is the weighted mean per output; blendModel normalises weights and refuses bad ones', () => {
  const out = blendOutputs([0.25, 0.75], [Float32Array.of(1, 2, 3), Float32Array.of(5, 6, 7)]);
  assert.deepEqual(Array.from(out), [4, 5, 6]);
  assert.throws(() => blendOutputs([0.5, 0.5], [Float32Array.of(1, 2), Float32Array.of(1)]), /member 1 gave 1 outputs/);
  let disposed = 0;
  const m = { dispose: () => disposed++ };
  const blend = blendModel([
    { model: m, meta: {}, weight: 1 },
    { model: m, meta: {}, weight: 3 },
  ]);
  assert.deepEqual(
    blend.members.map((x) => x.weight),
    [0.25, 0.75],
  );
  blend.dispose();
  assert.equal(disposed, 2);
  assert.throws(() => blendModel([{ model: m, meta: {}, weight: 1 }]), /at least two members/);
  assert.throws(
    () =>
      blendModel([
        { model: m, meta: {}, weight: 1 },
        { model: m, meta: {}, weight: 0 },
      ]),
    /member 1 has weight 0/,
  );
});

test('blendModel keeps weights that already sum to 1 bit for bit, so a reloaded bundle serves its golden outputs exactly', () => {
  const m = { dispose: () => {} };
  const random = seededRandom(5);
  let renormalisedWouldMove = 0;
  for (let trial = 0; trial < 200; trial++) {
    const counts = [1 + Math.floor(random() * 20), 1 + Math.floor(random() * 20), 1 + Math.floor(random() * 20)];
    const trained = blendModel(counts.map((c) => ({ model: m, meta: {}, weight: c / 28 }))).members.map(
      (x) => x.weight,
    );
    const saved = JSON.parse(JSON.stringify(trained)) as number[];
    const reloaded = blendModel(saved.map((w) => ({ model: m, meta: {}, weight: w }))).members.map((x) => x.weight);
    assert.deepEqual(reloaded, trained);
    const total = saved.reduce((s, w) => s + w, 0);
    if (saved.some((w) => w / total !== w)) renormalisedWouldMove++;
  }
  assert.ok(renormalisedWouldMove > 0, 'the trials include weights that a second division would have moved');
});

test('a blend bundle saves each member in its own directory, reloads, and serves the weighted mean of the members with their own calibration', async (t) => {
  const { tf } = await selectBackend({});
  const root = await mkdtemp(join(tmpdir(), 'bundle-blend-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await makeBundle(join(root, 'a'), 1);
  await makeBundle(join(root, 'b'), 2);
  const a = await loadBundle(tf, join(root, 'a'));
  const b = await loadBundle(tf, join(root, 'b'));
  const { table } = recordsToTable(sampleRecords(30), SCHEMA);
  const platt = { method: 'platt' as const, a: 2, b: 0.3 };
  const rawA = a.predictTable(table);
  const rawB = b.predictTable(table);
  assert.ok(
    rawA.some((v, i) => Math.abs(v - rawB[i]) > 1e-3),
    'the two members differ',
  );
  const blend = blendModel([
    { model: a.model as SingleModel, meta: { calibration: platt }, weight: 1 },
    { model: b.model as SingleModel, meta: {}, weight: 3 },
  ]);
  const meta = {
    ...a.meta,
    candidate: 'blend:a+b',
    model_type: 'blend' as const,
    blend: {
      members: [
        { candidate: 'a', model_type: 'mlp' as const, weight: 0.25, calibration: platt },
        { candidate: 'b', model_type: 'mlp' as const, weight: 0.75 },
      ],
    },
  };
  const goldenTable = recordsToTable(
    a.golden.map((g) => g.record),
    SCHEMA,
  ).table;
  const goldenOut = outputsFromModel(tf, blend, meta, a.spec, goldenTable);
  const golden = a.golden.map((g, i) => ({ record: g.record, expected: goldenOut[i] }));
  await assert.rejects(
    saveBundle(tf, join(root, 'refused'), blend, { meta: a.meta, spec: a.spec, profile: a.profile, golden }),
    /describes 0 blend member\(s\) but the model has 2/,
  );
  const dir = join(root, 'blend');
  await saveBundle(tf, dir, blend, { meta, spec: a.spec, profile: a.profile, golden });
  blend.dispose();
  assert.deepEqual((await readdir(join(dir, 'members'))).sort(), ['0', '1']);
  const loaded = await loadBundle(tf, dir);
  try {
    assert.equal(loaded.checkGolden().ok, true);
    const served = loaded.predictTable(table);
    const raw = loaded.predictTable(table, { raw: true });
    const both = loaded.predictTableBoth(table);
    for (let i = 0; i < table.length; i++) {
      const expected = 0.25 * applyCalibration(platt, rawA[i]) + 0.75 * rawB[i];
      assert.ok(Math.abs(served[i] - expected) < 1e-6, `row ${i}: ${served[i]} vs ${expected}`);
      assert.ok(Math.abs(raw[i] - (0.25 * rawA[i] + 0.75 * rawB[i])) < 1e-6, `raw row ${i}`);
    }
    assert.deepEqual(Array.from(both.calibrated), Array.from(served));
    assert.deepEqual(Array.from(both.raw), Array.from(raw));
  } finally {
    loaded.dispose();
  }
});
