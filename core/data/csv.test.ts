import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCsvTable, ROW_COLUMN, ISSUE_COLUMN } from './csv.ts';
import { cellValue, type Table } from './table.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

async function csv(content: string | Buffer, options = {}) {
  const dir = await tempDir('csv-');
  const path = join(dir, 'x.csv');
  await writeFile(path, content);
  return readCsvTable(path, options);
}
const col = (t: Table, name: string) => Array.from({ length: t.length }, (_, i) => cellValue(t.columns[name], i));

test('parses quotes, escaped quotes, embedded newlines, CRLF and a BOM', async () => {
  const { table, header } = await csv('\ufeffa,b\r\n"x, y","he said ""hi"""\r\n"multi\nline",2\r\n');
  assert.deepEqual(header, ['a', 'b']);
  assert.deepEqual(col(table, 'a'), ['x, y', 'multi\nline']);
  assert.deepEqual(col(table, 'b'), ['he said "hi"', '2']);
  assert.deepEqual(col(table, ROW_COLUMN), [2, 3]);
  assert.deepEqual(col(table, ISSUE_COLUMN), [null, null]);
});

test('empty fields are missing, blank lines are skipped, last line may lack a newline', async () => {
  const { table } = await csv('a,b\n1,\n\n,2');
  assert.deepEqual(col(table, 'a'), ['1', null]);
  assert.deepEqual(col(table, 'b'), [null, '2']);
  assert.deepEqual(col(table, ROW_COLUMN), [2, 4]);
});

test('wrong field counts are flagged per row, not fatal', async () => {
  const { table } = await csv('a,b\n1\n1,2,3\n4,5\n');
  assert.deepEqual(col(table, ISSUE_COLUMN), ['field_count:1/2', 'field_count:3/2', null]);
  assert.deepEqual(col(table, 'b'), [null, '2', '5']);
});

test('invalid UTF-8 is flagged with its column and decoded lossily', async () => {
  const bytes = Buffer.concat([Buffer.from('city,n\nZ'), Buffer.from([0xfc]), Buffer.from('rich,1\nMünchen,2\n')]);
  const { table } = await csv(bytes);
  assert.deepEqual(col(table, ISSUE_COLUMN), ['invalid_utf8:city', null]);
  assert.equal(col(table, 'city')[1], 'München');
});

test('a huge field is flagged and never held whole, even across read chunks', async () => {
  const huge = 'x'.repeat(3 * 1024 * 1024);
  const { table } = await csv(`a,b\n1,"${huge}"\n2,ok\n`, { maxFieldBytes: 1000 });
  assert.deepEqual(col(table, ISSUE_COLUMN), ['field_too_large:b', null]);
  assert.deepEqual(col(table, 'b'), [null, 'ok']);
  assert.deepEqual(col(table, 'a'), ['1', '2']);
});

test('CRLF split across a chunk boundary still strips the CR', async () => {
  const line = 'v'.repeat((1 << 20) - 'a\r\n'.length - 1);
  const { table } = await csv(`a\r\n${line}\r\nlast\r\n`);
  assert.equal((col(table, 'a')[0] as string).length, line.length);
  assert.equal(col(table, 'a')[1], 'last');
});

test('empty file and duplicate header names are clear errors', async () => {
  await assert.rejects(csv(''), /is empty: no header line/);
  await assert.rejects(csv('\n\n'), /is empty: no header line/);
  await assert.rejects(csv('a,a\n1,2\n'), /names column "a" twice/);
  await assert.rejects(csv('a,,c\n1,2,3\n'), /header column 2 has no name/);
});

test('maxRows stops after that many records: the header and a sample without reading the whole file', async () => {
  const { table, header } = await csv('a,b\n1,"x\ny"\n2,z\n3,w\n', { maxRows: 2 });
  assert.deepEqual(header, ['a', 'b']);
  assert.deepEqual(col(table, 'a'), ['1', '2']);
  assert.deepEqual(col(table, ROW_COLUMN), [2, 4]);
  const none = await csv('a,b\n1,2\n', { maxRows: 0 });
  assert.deepEqual(none.header, ['a', 'b']);
  assert.equal(none.table.length, 0);
  assert.equal((await csv('a\n1\n2', { maxRows: 5 })).table.length, 2);
});
