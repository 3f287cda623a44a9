import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeBlendBundle } from '../../harness/testing/api/blend-bundle.ts';
import { makeBundle } from '../../harness/testing/api/support.ts';
import { removeTree, tempDir } from '../../harness/testing/lifecycle.ts';
import { selectBackend } from './tfjs-backend.ts';
import { loadBundle } from './bundle.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test('a damaged blend bundle is refused at load, naming the member file or bundle.json field at fault', async (t) => {
  const { tf } = await selectBackend({});
  const root = await tempDir('blend-damage-');
  t.after(() => removeTree(root));
  const good = join(root, 'good');
  await makeBlendBundle(good, [2, 3]);
  const editJson = async (file: string, edit: (j: Json) => void) => {
    const j = JSON.parse(await readFile(file, 'utf8')) as Json;
    edit(j);
    await writeFile(file, JSON.stringify(j));
  };
  const cases: [string, (dir: string) => Promise<unknown>, RegExp][] = [
    [
      'a truncated weights.bin',
      async (d) => {
        const w = join(d, 'members/1/weights.bin');
        await writeFile(w, (await readFile(w)).subarray(0, 8));
      },
      /members\/1: weights\.bin holds 8 bytes but model\.json's weights manifest needs \d+/,
    ],
    ['a missing weights.bin', (d) => rm(join(d, 'members/0/weights.bin')), /members\/0 has no weights\.bin/],
    [
      'model_type blend without its members',
      (d) => editJson(join(d, 'bundle.json'), (m) => delete m.blend),
      /bundle\.json: field `blend`: model_type `blend` and the `blend` members go together/,
    ],
    [
      'members without model_type blend',
      (d) => editJson(join(d, 'bundle.json'), (m) => (m.model_type = 'mlp')),
      /field `blend`: model_type `blend` and the `blend` members go together/,
    ],
    [
      'a member directory bundle.json does not describe',
      (d) => cp(join(d, 'members/1'), join(d, 'members/2'), { recursive: true }),
      /members\/2 is not among the 2 blend members bundle\.json describes/,
    ],
    [
      'a member whose outputs do not match the target',
      (d) =>
        editJson(join(d, 'feature-spec.json'), (s) => {
          s.target.classes = ['a', 'b', 'c'];
        }),
      /members\/0: model\.json gives 1 output\(s\) per row but feature-spec\.json's target has 3/,
    ],
    [
      'a member calibration that cannot give a probability',
      (d) =>
        editJson(join(d, 'bundle.json'), (m) => {
          m.blend.members[1].calibration = { method: 'isotonic', x: [0, 1], y: [0, 2] };
        }),
      /bundle\.json blend\.members\[1\]\.calibration/,
    ],
  ];
  for (const [name, damage, expected] of cases) {
    const dir = join(root, name.replaceAll(' ', '-'));
    await cp(good, dir, { recursive: true });
    for (const f of ['bundle.json', 'feature-spec.json', 'members/0/weights.bin', 'members/1/weights.bin'])
      await chmod(join(dir, f), 0o644);
    await damage(dir);
    await assert.rejects(loadBundle(tf, dir), expected, name);
  }
  const loaded = await loadBundle(tf, good);
  assert.equal(loaded.checkGolden().ok, true, 'the undamaged blend still loads');
  loaded.dispose();
});

test("a multi-class bundle's golden mismatch counts outputs (one per class) beside the examples", async (t) => {
  const { tf } = await selectBackend({});
  const root = await tempDir('golden-count-');
  t.after(() => removeTree(root));
  const dir = join(root, 'multi');
  await makeBundle(dir, 7, { multiclass: true });
  const file = join(dir, 'golden.json');
  const golden = JSON.parse(await readFile(file, 'utf8')) as { probabilities: number[] }[];
  golden[0].probabilities[0] += 0.5;
  await chmod(file, 0o644);
  await writeFile(file, JSON.stringify(golden));
  const loaded = await loadBundle(tf, dir);
  try {
    const outputs = golden.reduce((n, g) => n + g.probabilities.length, 0);
    assert.equal(
      loaded.checkGolden().problem,
      `1 of ${outputs} golden outputs (${golden.length} examples) differ by more than 0`,
    );
  } finally {
    loaded.dispose();
  }
});
