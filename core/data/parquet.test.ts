import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { openParquetTableWriter, readParquetRowGroups, readParquetTable, tableToParquet, writeParquetTable } from './parquet.ts';
import { makeTable, cellValue, sliceRows, type Table } from './table.ts';
import { exists } from '../platform/atomic.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

function sample(): Table {
  return makeTable({
    when: { type: 'timestamp', values: Float64Array.from([Date.UTC(2001, 0, 1, 0, 1), NaN, Date.UTC(2001, 5, 30, 23, 59)]) },
    delay: { type: 'number', values: Float64Array.from([33, NaN, -12.5]) },
    origin: { type: 'string', codes: Int32Array.from([0, -1, 1]), dict: ['LAS', 'Zürich ✈'] },
  });
}

test('round-trips numbers, timestamps, unicode strings and missing values', async () => {
  const dir = await tempDir('pq-');
  const path = join(dir, 't.parquet');
  await writeParquetTable(path, sample());
  const back = await readParquetTable(path);
  assert.equal(back.length, 3);
  for (const name of ['when', 'delay', 'origin']) {
    for (let r = 0; r < 3; r++) assert.deepEqual(cellValue(back.columns[name], r), cellValue(sample().columns[name], r), `${name}[${r}]`);
  }
  assert.equal(back.columns.when.type, 'timestamp');
});

test('reads a row range and a column subset', async () => {
  const dir = await tempDir('pq-');
  const path = join(dir, 't.parquet');
  await writeParquetTable(path, sample());
  const part = await readParquetTable(path, { columns: ['origin'], rowStart: 1, rowEnd: 3 });
  assert.deepEqual(Object.keys(part.columns), ['origin']);
  assert.equal(part.length, 2);
  assert.equal(cellValue(part.columns.origin, 0), null);
  assert.equal(cellValue(part.columns.origin, 1), 'Zürich ✈');
});

test('writing is deterministic so DVC hashes are stable across runs', () => {
  const a = createHash('md5').update(tableToParquet(sample())).digest('hex');
  const b = createHash('md5').update(tableToParquet(sample())).digest('hex');
  assert.equal(a, b);
});

test('reads the bundled flights parquet (ZSTD, INT64 timestamps in microseconds)', async () => {
  const { bundledDatasetPath } = await import('./datasets.ts');
  const path = bundledDatasetPath('vega-datasets:data/flights-3m.parquet');
  const t = await readParquetTable(path, { rowStart: 0, rowEnd: 2 });
  assert.equal(cellValue(t.columns.date, 0), Date.UTC(2001, 0, 1, 0, 1));
  assert.equal(cellValue(t.columns.delay, 0), 33);
  assert.equal(cellValue(t.columns.origin, 1), 'ATL');
});

test('a non-parquet file gets an error naming the path', async () => {
  const dir = await tempDir('pq-');
  const path = join(dir, 'bad.parquet');
  await (await import('node:fs/promises')).writeFile(path, 'hello');
  await assert.rejects(readParquetTable(path), /bad\.parquet is not a readable Parquet file/);
});

function rowsTable(n: number, seed: number): Table {
  // A small deterministic generator: the test must not depend on Math.random.
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  const when = new Float64Array(n);
  const delay = new Float64Array(n);
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    when[i] = Date.UTC(2001, 0, 1) + i * 60_000;
    delay[i] = next() < 0.1 ? NaN : Math.round(next() * 200 - 30);
    codes[i] = next() < 0.05 ? -1 : Math.floor(next() * 3);
  }
  return makeTable({
    when: { type: 'timestamp', values: when },
    delay: { type: 'number', values: delay },
    origin: { type: 'string', codes, dict: ['ATL', 'ORD', 'SFO'] },
  });
}

test('a streamed write (uneven appends) gives the same bytes as writing the whole table, and reads back group by group', async () => {
  const dir = await tempDir('pq-');
  const whole = rowsTable(103, 7);
  const path = join(dir, 'streamed.parquet');
  const w = await openParquetTableWriter(path, { rowGroupSize: 10, metadata: { k: 'v' } });
  for (const [a, b] of [
    [0, 3],
    [3, 3],
    [3, 41],
    [41, 42],
    [42, 103],
  ])
    w.append(sliceRows(whole, a, b));
  assert.equal(await exists(path), false, 'the file appears only on close');
  await w.close();
  const expected = tableToParquet(whole, { rowGroupSize: 10, metadata: { k: 'v' } });
  assert.deepEqual(new Uint8Array(await readFile(path)), expected);
  const groups: number[] = [];
  let seen = 0;
  for await (const g of readParquetRowGroups(path)) {
    assert.equal(g.rowStart, seen);
    for (let r = 0; r < g.length; r++)
      for (const name of ['when', 'delay', 'origin'])
        assert.deepEqual(cellValue(g.columns[name], r), cellValue(whole.columns[name], seen + r), `${name}[${seen + r}]`);
    seen += g.length;
    groups.push(g.length);
  }
  assert.deepEqual(groups, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
});

test('a streamed write of no rows, or one aborted, leaves no temporary behind', async () => {
  const dir = await tempDir('pq-');
  const aborted = await openParquetTableWriter(join(dir, 'a.parquet'));
  aborted.append(rowsTable(5, 1));
  await aborted.abort();
  assert.deepEqual(await readdir(dir), []);
  const empty = await openParquetTableWriter(join(dir, 'e.parquet'));
  await empty.close();
  assert.deepEqual(await readdir(dir), ['e.parquet']);
  assert.equal((await readParquetTable(join(dir, 'e.parquet'))).length, 0);
});
