import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateTable, SchemaMismatchError } from './validation.ts';
import { cellValue, makeTable, StringColumnBuilder } from './table.ts';
import type { ColumnRule } from '../schemas/params.ts';

const schema: Record<string, ColumnRule> = {
  date: { type: 'timestamp', required: true, min: '2000-01-01', max: '2030-12-31' },
  delay: { type: 'integer', required: true, min: -100, max: 2000 },
  distance: { type: 'number', required: false, min: 1 },
  origin: { type: 'category', required: true, pattern: '^[A-Z]{3}$' },
  kind: { type: 'category', required: false, allowed: ['a', 'b'] },
};

function strings(values: (string | null)[]) {
  const b = new StringColumnBuilder();
  values.forEach((v) => b.push(v));
  return b.finish();
}

test('coerces CSV strings and gives each bad row its reasons', () => {
  const t = makeTable({
    date: strings(['2001-01-01 10:00', '2001-01-02', 'soon', '1999-01-01', '2001-01-03', '2001-01-04']),
    delay: strings(['5', '1.5', '3', '7', 'NaN', '9']),
    distance: strings(['10', null, '12', '0', '5', '1e3']),
    origin: strings(['ATL', 'LAX', 'ORD', 'SFO', 'atl', null]),
    kind: strings(['a', null, 'b', 'c', 'a', 'a']),
    extra: strings(['x', 'x', 'x', 'x', 'x', 'x']),
    __row: { type: 'number', values: Float64Array.from([2, 3, 4, 5, 6, 7]) },
  });
  const r = validateTable(t, schema);
  assert.equal(r.clean.length, 1);
  assert.equal(cellValue(r.clean.columns.date, 0), Date.UTC(2001, 0, 1, 10));
  assert.equal(cellValue(r.clean.columns.__row, 0), 2);
  const reasons = Object.fromEntries(r.rejects.map((x) => [x.index, x.problems.map((p) => `${p.column}:${p.reason}`).sort()]));
  assert.deepEqual(reasons, {
    1: ['delay:wrong_type'], // 1.5 is not an integer; missing optional distance is fine
    2: ['date:wrong_type'],
    3: ['date:out_of_range', 'distance:out_of_range', 'kind:not_allowed'],
    4: ['delay:wrong_type', 'origin:pattern_mismatch'],
    5: ['origin:missing'],
  });
  assert.equal(r.byReason.wrong_type, 3);
  assert.deepEqual(r.droppedColumns, ['extra']);
});

test('a missing required column is one clear error, not a reject per row', () => {
  const t = makeTable({ date: strings(['2001-01-01']) });
  assert.throws(() => validateTable(t, schema), (e: Error) => e instanceof SchemaMismatchError && /"delay", "origin"/.test(e.message) && /it has: date/.test(e.message));
});

test('reader issues (invalid UTF-8, huge fields) become rejects with their column', () => {
  const t = makeTable({
    date: strings(['2001-01-01', '2001-01-01']),
    delay: strings(['1', '2']),
    origin: strings(['ATL', null]),
    __issue: strings([null, 'field_too_large:origin;invalid_utf8:kind']),
  });
  const r = validateTable(t, schema);
  assert.equal(r.clean.length, 1);
  assert.deepEqual(r.rejects[0].problems.map((p) => `${p.column}:${p.reason}`).sort(), ['kind:invalid_utf8', 'origin:field_too_large', 'origin:missing']);
});

test('typed Parquet columns are checked for range and integrality too', () => {
  const t = makeTable({
    date: { type: 'timestamp', values: Float64Array.from([Date.UTC(2001, 0, 1), NaN]) },
    delay: { type: 'number', values: Float64Array.from([Infinity, 3]) },
    origin: strings(['ATL', 'ATL']),
  });
  const r = validateTable(t, schema);
  assert.deepEqual(r.rejects.map((x) => x.problems.map((p) => `${p.column}:${p.reason}`)), [['delay:wrong_type'], ['date:missing']]);
});
