import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { batchDrift } from './drift.ts';
import { flightsCsv, quietLog, tempRepo, testParams, writeSource } from '../harness/testing/training/fixtures.ts';

test('batch drift: the same data does not drift; longer flights from one airport do; JSON, markdown and PNGs are written', async () => {
  const repo = await tempRepo();
  const params = await testParams();
  const reference = await writeSource(repo, 'ref.csv', flightsCsv(3000));
  const same = await writeSource(repo, 'same.csv', flightsCsv(3000));
  const lines = flightsCsv(3000).split('\n');
  const shifted = lines.map((l, i) => {
    if (i === 0 || !l) return l;
    const f = l.split(',');
    return [f[0], f[1], String(Number(f[2]) + 2500), 'ATL', f[4]].join(',');
  });
  const changed = await writeSource(repo, 'changed.csv', shifted.join('\n'));

  const none = await batchDrift({ reference, current: same, out: join(repo, 'r1'), params, log: quietLog() });
  assert.equal(none.dataset_drift, false);
  assert.deepEqual(none.drifted_features, []);

  const out = join(repo, 'r2');
  const drift = await batchDrift({ reference, current: changed, out, params, log: quietLog() });
  assert.ok(drift.drifted_features.includes('distance'));
  assert.ok(drift.drifted_features.includes('origin'));
  assert.ok(!drift.drifted_features.includes('destination'));
  const json = JSON.parse(await readFile(join(out, 'drift.json'), 'utf8'));
  assert.equal(json.rows, 3000);
  const md = await readFile(join(out, 'drift.md'), 'utf8');
  assert.match(md, /\| distance \| wasserstein \| [0-9.]+ \| — \| 0\.1 \| ⚠️ yes \|/);
  const files = await readdir(out);
  assert.ok(files.includes('drift-distance.png') && files.includes('drift-origin.png'));
});
