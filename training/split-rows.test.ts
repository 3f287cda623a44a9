import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readParquetTable, writeParquetTable } from '../core/data/parquet.ts';
import { cellValue, makeTable, takeRows, type Table } from '../core/data/table.ts';
import { seededRandom } from '../core/platform/random.ts';
import { readSampledRows, readSpacedRows, spacedRowsIn } from './split-rows.ts';

/** A seeded table of `n` rows in time order, with a string column whose values repeat across row groups. */
function table(n: number): Table {
  const random = seededRandom(7);
  const words = ['ATL', 'ORD', 'SFO', 'JFK', null];
  return makeTable({
    date: { type: 'timestamp', values: Float64Array.from({ length: n }, (_, i) => 1e12 + i * 60_000) },
    delay: { type: 'number', values: Float64Array.from({ length: n }, () => (random() < 0.1 ? NaN : random() * 90)) },
    origin: {
      type: 'string',
      dict: ['ATL', 'ORD', 'SFO', 'JFK'],
      codes: Int32Array.from({ length: n }, () => {
        const w = words[Math.floor(random() * words.length)];
        return w === null ? -1 : words.indexOf(w);
      }),
    },
  });
}

/** Row by row values, so tables whose string dictionaries are ordered differently compare equal. */
const rowsOf = (t: Table) =>
  Array.from({ length: t.length }, (_, r) => Object.keys(t.columns).map((c) => cellValue(t.columns[c], r)));

async function withFile(n: number, run: (path: string, whole: Table) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'split-rows-'));
  try {
    const path = join(dir, 'split.parquet');
    // Row groups of 7 rows: the cuts below fall inside groups and on their boundaries.
    await writeParquetTable(path, table(n), { rowGroupSize: 7 });
    await run(path, await readParquetTable(path));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('readSampledRows reads maxRows evenly spaced rows across row groups, and all of a smaller file', async () => {
  await withFile(50, async (path, whole) => {
    for (const maxRows of [1, 6, 7, 8, 14, 23, 49]) {
      const read = await readSampledRows(path, maxRows);
      const picked = Array.from({ length: maxRows }, (_, i) => Math.floor((i * 50) / maxRows));
      assert.equal(read.of, 50);
      assert.equal(new Set(picked).size, maxRows);
      assert.deepEqual(rowsOf(read.table), rowsOf(takeRows(whole, picked)), `maxRows ${maxRows}`);
    }
    for (const maxRows of [50, 51, 1_000_000, undefined]) {
      const read = await readSampledRows(path, maxRows);
      assert.equal(read.table.length, 50);
      assert.deepEqual(rowsOf(read.table), rowsOf(whole));
    }
  });
});

test('spacedRowsIn splits the evenly spaced rows among row groups without loss or repeat', () => {
  const random = seededRandom(3);
  for (let c = 0; c < 200; c++) {
    const n = 1 + Math.floor(random() * 5000);
    const m = 1 + Math.floor(random() * n);
    const group = 1 + Math.floor(random() * 700);
    const got: number[] = [];
    for (let start = 0; start < n; start += group)
      got.push(...spacedRowsIn(n, m, start, Math.min(n, start + group)).map((r) => r + start));
    assert.deepEqual(
      got,
      Array.from({ length: m }, (_, i) => Math.floor((i * n) / m)),
      `n ${n}, m ${m}, group ${group}`,
    );
  }
  // Near the sizes it is used at: 15M rows, 2.2M kept, row groups of 250,000.
  const n = 15_000_001;
  const m = 2_200_000;
  let total = 0;
  let last = -1;
  for (let start = 0; start < n; start += 250_000)
    for (const r of spacedRowsIn(n, m, start, Math.min(n, start + 250_000))) {
      assert.ok(r + start > last);
      last = r + start;
      total++;
    }
  assert.equal(total, m);
});

test('readSpacedRows reads the rows the golden examples pick from the whole split', async () => {
  await withFile(50, async (path, whole) => {
    for (const count of [1, 3, 8, 50, 80]) {
      const read = await readSpacedRows(path, count);
      const step = Math.max(1, Math.floor(50 / count));
      const picked = Array.from({ length: Math.min(count, 50) }, (_, i) => i * step);
      assert.equal(read.of, 50);
      assert.deepEqual(rowsOf(read.table), rowsOf(takeRows(whole, picked)), `count ${count}`);
    }
  });
});
