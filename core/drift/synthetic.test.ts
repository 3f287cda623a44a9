import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTable, StringColumnBuilder, type NumberColumn, type StringColumn } from '../data/table.ts';
import { driftReportTables } from './report.ts';
import { changeCategoryMix, injectMissing, normalSample, scaleNumeric, shiftNumeric } from './synthetic.ts';
import { seededRandom } from '../platform/random.ts';
import { populationStd } from './wasserstein.ts';

function table(n = 2000) {
  const b = new StringColumnBuilder();
  for (let i = 0; i < n; i++) b.push(['A', 'B', 'C', 'D'][i % 4]);
  return makeTable({ x: { type: 'number', values: normalSample(n, 3, 10, 2) }, c: b.finish() });
}
const values = (t: ReturnType<typeof table>, name: string) => (t.columns[name] as NumberColumn).values;

test('seeded: same seed, same numbers; different seed, different numbers', () => {
  const a = seededRandom(42),
    b = seededRandom(42),
    c = seededRandom(43);
  const xs = Array.from({ length: 5 }, a);
  assert.deepEqual(xs, Array.from({ length: 5 }, b));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, c));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.deepEqual(normalSample(10, 5), normalSample(10, 5));
  const s = normalSample(20_000, 9, 10, 2);
  assert.ok(Math.abs(s.reduce((acc, v) => acc + v, 0) / s.length - 10) < 0.05);
  assert.ok(Math.abs(populationStd(s) - 2) < 0.05);
});

test('shift by k standard deviations and scale around the mean; input untouched', () => {
  const t = table();
  const before = Float64Array.from(values(t, 'x'));
  const std = populationStd(before);
  const shifted = shiftNumeric(t, 'x', 1.5);
  values(shifted, 'x').forEach((v, i) => assert.ok(Math.abs(v - before[i] - 1.5 * std) < 1e-9));
  assert.deepEqual(values(t, 'x'), before);
  assert.equal(values(shiftNumeric(t, 'x', 1, 0.5), 'x')[0], before[0] + 0.5);
  const scaled = scaleNumeric(t, 'x', 2);
  assert.ok(Math.abs(populationStd(values(scaled, 'x')) - 2 * std) < 1e-9);
  assert.throws(() => shiftNumeric(t, 'c', 1), /string; shift and scale need a number column/);
});

test('category mix change is seeded and can add new categories', () => {
  const t = table();
  const m1 = changeCategoryMix(t, 'c', { A: 1, NEW: 1 }, { fraction: 0.5, seed: 1 });
  assert.deepEqual(m1, changeCategoryMix(t, 'c', { A: 1, NEW: 1 }, { fraction: 0.5, seed: 1 }));
  const c = m1.columns.c as StringColumn;
  const counts = new Map<string, number>();
  for (const code of c.codes) counts.set(c.dict[code], (counts.get(c.dict[code]) ?? 0) + 1);
  // Half the rows redrawn half/half from A and NEW: expected A ≈ 500 + 250, NEW ≈ 500.
  assert.ok(Math.abs(counts.get('NEW')! - 500) < 80);
  assert.ok(Math.abs(counts.get('A')! - 750) < 80);
  assert.deepEqual((t.columns.c as StringColumn).dict, ['A', 'B', 'C', 'D']);
});

test('missing values injected at the requested rate, in numbers and strings', () => {
  const t = injectMissing(table(), ['x', 'c'], 0.2, 7);
  const nx = values(t, 'x').filter(Number.isNaN).length;
  const nc = (t.columns.c as StringColumn).codes.filter((code) => code < 0).length;
  assert.ok(Math.abs(nx - 400) < 80 && Math.abs(nc - 400) < 80, `${nx} ${nc}`);
});

test('end to end: no change → no drift; one std shift and a new mix → drift', () => {
  const ref = table(),
    cur = table(); // same seed: identical windows
  assert.equal(driftReportTables(ref, cur, ['x', 'c']).dataset_drift, false);
  const drifted = changeCategoryMix(shiftNumeric(cur, 'x', 1), 'c', { A: 3, B: 1 }, { seed: 2 });
  const r = driftReportTables(ref, drifted, ['x', 'c']);
  assert.deepEqual(r.drifted_features, ['x', 'c']);
  assert.ok(Math.abs(r.features.x.score! - 1) < 1e-9); // Wasserstein of a pure shift is the shift: 1 std
  const small = driftReportTables(ref, injectMissing(shiftNumeric(cur, 'x', 0.05), ['x'], 0.3, 1), ['x']);
  assert.equal(small.features.x.drifted, false);
  assert.ok(small.features.x.missing > 400);
});
