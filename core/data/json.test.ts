import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonTable, JsonFormatError } from './json.ts';
import { ROW_COLUMN, ISSUE_COLUMN } from './csv.ts';
import { cellValue, type Table } from './table.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

async function json(content: string, options = {}) {
  const dir = await tempDir('json-');
  const path = join(dir, 'x.json');
  await writeFile(path, content);
  return readJsonTable(path, options);
}
const col = (t: Table, name: string) => Array.from({ length: t.length }, (_, i) => cellValue(t.columns[name], i));

test('an array of flat objects becomes raw-string columns, keys in order of first appearance', async () => {
  const { table, header } = await json(
    '[{"a": 1.5, "b": "x", "c": true}, {"b": "y", "d": null}, {"a": -2, "d": "late", "c": false}]',
  );
  assert.deepEqual(header, ['a', 'b', 'c', 'd']);
  assert.equal(table.length, 3);
  assert.deepEqual(col(table, 'a'), ['1.5', null, '-2']);
  assert.deepEqual(col(table, 'b'), ['x', 'y', null]);
  assert.deepEqual(col(table, 'c'), ['true', null, 'false']);
  assert.deepEqual(col(table, 'd'), [null, null, 'late']);
  assert.deepEqual(col(table, ROW_COLUMN), [1, 2, 3]);
  assert.deepEqual(col(table, ISSUE_COLUMN), [null, null, null]);
});

test('a nested value keeps its JSON text; an oversize value is flagged on its row', async () => {
  const { table } = await json('[{"a": [1, 2], "b": "short"}, {"a": {"k": 1}, "b": "far too long"}]', {
    maxFieldBytes: 8,
  });
  assert.deepEqual(col(table, 'a'), ['[1,2]', '{"k":1}']);
  assert.deepEqual(col(table, 'b'), ['short', null]);
  assert.deepEqual(col(table, ISSUE_COLUMN), [null, 'field_too_large']);
});

test('maxRows keeps the first records', async () => {
  const { table } = await json('[{"a": 1}, {"a": 2}, {"a": 3}]', { maxRows: 2 });
  assert.deepEqual(col(table, 'a'), ['1', '2']);
});

test('bad input fails with what is wrong and where', async () => {
  await assert.rejects(json('{"a": 1}'), (e: Error) => e instanceof JsonFormatError && /top-level array/.test(e.message) && /an object/.test(e.message));
  await assert.rejects(json('[{"a": 1}, 7]'), (e: Error) => e instanceof JsonFormatError && /element 1 .*a number, not an object/.test(e.message));
  await assert.rejects(json('[{"a": 1}, [1]]'), /element 1 of the array is an array/);
  await assert.rejects(json('[{"a": 1},'), (e: Error) => e instanceof JsonFormatError && /not valid JSON/.test(e.message));
  await assert.rejects(json('[{"a": 1}]', { maxBytes: 4 }), /above the 4-byte limit.*CSV or Parquet/);
});
