import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StageSpec } from '../../core/dvc/index.ts';
import { whyChanged, type HashedPath } from './state.ts';

const file = (path: string, md5: string | null): HashedPath => ({
  path,
  abs: `/r/${path}`,
  hash: md5 === null ? null : ({ kind: 'file', md5, size: 1 } as never),
});
const spec = (deps: string[]): StageSpec => ({
  name: 's',
  cmd: 'run',
  wdir: '.',
  deps,
  params: [],
  outs: [],
  frozen: false,
  alwaysChanged: false,
});
const lock = (deps: [string, string][]) => ({
  cmd: 'run',
  deps: deps.map(([path, md5]) => ({ path, hash: 'md5', md5, size: 1 })),
});

test('why a stage runs: a few paths are named one by one, many become one line per kind of change', () => {
  const few = ['a.ts', 'b.ts'];
  assert.deepEqual(
    whyChanged(
      spec(few),
      { deps: [file('a.ts', '1'), file('b.ts', '9')], outs: [], params: {} },
      lock([
        ['a.ts', '1'],
        ['b.ts', '2'],
      ]),
    ),
    ["dep 'b.ts' changed"],
  );
  const many = Array.from({ length: 6 }, (_, i) => `core/f${i}.ts`);
  const reasons = whyChanged(
    spec(many),
    { deps: many.map((p, i) => file(p, i === 0 ? null : 'x')), outs: [], params: {} },
    lock([
      ['core/f5.ts', 'y'],
      ['gone-1.ts', 'z'],
    ]),
  );
  assert.deepEqual(reasons, [
    "dep 'core/f0.ts' is missing",
    "4 deps are new: 'core/f1.ts', 'core/f2.ts', 'core/f3.ts', …",
    "dep 'core/f5.ts' changed",
    "dep 'gone-1.ts' was removed from dvc.yaml",
  ]);
});

test('a whole-section param that changed is named down to the keys that did', () => {
  const locked = {
    ...lock([['a.ts', '1']]),
    params: {
      'params.yaml': {
        validate: { max_reject_rate: 0.02, max_field_bytes: 4096, schema: { a: { type: 'number', min: 0 } } },
        seed: 7,
      },
    },
  };
  const now = (validate: unknown, seed = 7) => ({
    deps: [file('a.ts', '1')],
    outs: [],
    params: { 'params.yaml': { validate, seed } },
  });
  assert.deepEqual(
    whyChanged(
      spec(['a.ts']),
      now({ max_reject_rate: 0.02, max_field_bytes: 2048, schema: { a: { type: 'number', min: 1 }, b: {} } }, 8),
      locked,
    ),
    [
      "param 'validate.max_field_bytes' changed (4096 -> 2048)",
      "param 'validate.schema.a.min' changed (0 -> 1)",
      "param 'validate.schema.b' is new",
      "param 'seed' changed (7 -> 8)",
    ],
  );
  // Many changes in one section: the first few, then how many more.
  const many = whyChanged(spec(['a.ts']), now({ w: 1, x: 2, y: 3, z: 4 }), locked);
  assert.equal(many.length, 4);
  // 3 keys removed and 4 new: 7, the first 3 named.
  assert.equal(many[3], "and 4 more change(s) in param 'validate'");
  // A section replaced by a scalar is shown whole.
  assert.deepEqual(whyChanged(spec(['a.ts']), now('off'), locked), [
    `param 'validate' changed ({"max_reject_rate":0.02,"max_field_by... -> "off")`,
  ]);
});
