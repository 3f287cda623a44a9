import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBundle } from '../../harness/testing/api/support.ts';
import { selectBackend } from './tfjs-backend.ts';
import { loadBundle, NonFiniteBundleError } from './bundle.ts';

/** Set float `index` of the bundle's weights.bin to `value` (one embedding row, one bias…). */
async function poison(dir: string, index: number, value: number): Promise<number> {
  const path = join(dir, 'weights.bin');
  const bytes = await readFile(path);
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  floats[index] = value;
  await chmod(path, 0o644);
  await writeFile(path, Buffer.from(floats.buffer));
  return floats.length;
}

test('one non-finite weight anywhere refuses the bundle at load, naming the weight (golden examples would not see it)', async (t) => {
  const { tf } = await selectBackend({});
  const root = await mkdtemp(join(tmpdir(), 'bundle-nonfinite-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const clean = join(root, 'clean');
  await makeBundle(clean, 3);
  const loaded = await loadBundle(tf, clean);
  assert.equal(loaded.checkGolden().ok, true);
  loaded.dispose();
  for (const [name, value] of [
    ['nan', NaN],
    ['inf', Infinity],
    ['neginf', -Infinity],
  ] as const) {
    const dir = join(root, name);
    await makeBundle(dir, 3);
    const n = await poison(dir, 1, value);
    assert.ok(n > 2);
    await assert.rejects(loadBundle(tf, dir), (err: Error) => {
      assert.ok(err instanceof NonFiniteBundleError, String(err));
      assert.match(err.message, /weight \S+ holds 1 non-finite value\(s\) of \d+ \(first at index \d+\)/);
      return true;
    });
  }
});
