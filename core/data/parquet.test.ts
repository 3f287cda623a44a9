import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readParquetTable, tableToParquet, writeParquetTable } from './parquet.ts';
import { makeTable, cellValue, type Table } from './table.ts';
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
