import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTable, StringColumnBuilder } from '../data/table.ts';
import { driftReport, driftReportTables } from './report.ts';
import { normalSample } from './synthetic.ts';

test('raw samples: tiny windows use the exact KS p-value (hand-counted 0.1 for [1,2,3] vs [4,5,6])', () => {
  const r = driftReport({ x: [1, 2, 3] }, { x: [4, 5, 6] }, { min_window: 1 });
  assert.equal(r.features.x.method, 'ks');
  assert.equal(r.features.x.score, 1);
  assert.ok(Math.abs(r.features.x.p_value! - 0.1) < 1e-12);
  assert.equal(r.features.x.drifted, false); // p = 0.1 is not below 0.05
  assert.equal(r.features.x.out_of_range, 1);
});

test('raw samples: large windows use Wasserstein over the reference std (scipy example 5 / √(14/9))', () => {
  const r = driftReport({ x: [0, 1, 3] }, { x: [5, 6, 8] }, { min_window: 1, size_cutoff: 2 });
  assert.equal(r.features.x.method, 'wasserstein');
  assert.ok(Math.abs(r.features.x.score! - 5 / Math.sqrt(14 / 9)) < 1e-12);
  assert.equal(r.features.x.drifted, true);
});

test('raw categorical samples: chi-squared on the docs table, unseen values pooled and counted', () => {
  // Reference a:10 b:10 c:20, current a:20 b:20 c:20 is scipy's chi2_contingency example: p = e^{-25/18}.
  const ref = [...Array(10).fill('a'), ...Array(10).fill('b'), ...Array(20).fill('c')];
  const cur = [...Array(20).fill('a'), ...Array(20).fill('b'), ...Array(20).fill('c'), null];
  const r = driftReport({ city: ref }, { city: cur }, { min_window: 10 });
  assert.equal(r.features.city.method, 'chi2');
  assert.ok(Math.abs(r.features.city.p_value! - Math.exp(-25 / 18)) < 1e-12);
  assert.equal(r.features.city.missing, 1);
  assert.equal(r.features.city.unseen, 0);
  const withNew = driftReport({ city: ref }, { city: [...cur, 'zz', 'yy'] }, { min_window: 10 });
  assert.equal(withNew.features.city.unseen, 2);
});

test('identical samples do not drift; empty current → insufficient data; kinds inferred or given', () => {
  const s = normalSample(3000, 11);
  const same = driftReport(
    { x: s, c: Array.from(s, (v) => (v > 0 ? 'pos' : 'neg')) },
    { x: s, c: Array.from(s, (v) => (v > 0 ? 'pos' : 'neg')) },
  );
  assert.equal(same.features.x.score, 0);
  assert.equal(same.features.c.score, 0);
  assert.equal(same.features.c.kind, 'categorical');
  const empty = driftReport({ x: s }, { x: [] });
  assert.equal(empty.features.x.status, 'insufficient_data');
  assert.equal(empty.dataset_drift, false);
  const codes = driftReport(
    { h: [1, 2, 3, 1, 2, 3] },
    { h: [1, 2, 3, 3, 3, 3] },
    { min_window: 1 },
    { h: 'categorical' },
  );
  assert.equal(codes.features.h.method, 'chi2');
  assert.throws(() => driftReport({ x: [1, 2] }, { x: ['a'] }), /is numeric but value 0/);
  assert.throws(() => driftReport({ x: [1] }, {}), /not in the current one/);
});

test('tables: string columns are categorical, number columns numeric', () => {
  const city = (values: string[]) => {
    const b = new StringColumnBuilder();
    for (const v of values) b.push(v);
    return b.finish();
  };
  const n = 400;
  const ref = makeTable({
    d: { type: 'number', values: normalSample(n, 1) },
    o: city(Array.from({ length: n }, (_, i) => (i % 2 ? 'A' : 'B'))),
  });
  const cur = makeTable({
    d: { type: 'number', values: normalSample(n, 2, 1) },
    o: city(Array.from({ length: n }, (_, i) => (i % 2 ? 'A' : 'B'))),
  });
  const r = driftReportTables(ref, cur, ['d', 'o']);
  assert.deepEqual(r.drifted_features, ['d']);
  assert.equal(r.features.o.kind, 'categorical');
  assert.equal(r.dataset_drift, true);
  assert.throws(() => driftReportTables(ref, cur, ['nope']), /no column "nope"/);
});
