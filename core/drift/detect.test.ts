import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseParams } from '../schemas/params.ts';
import { profileCategorical, profileNumeric, type ReferenceProfile } from '../model/profile.ts';
import { binAgainst } from './binning.ts';
import { chooseMethod, detectDrift, resolveDriftParams } from './detect.ts';
import { normalSample } from './synthetic.ts';
import { readFile } from 'node:fs/promises';

const referenceValues = normalSample(20_000, 1);
const referenceCities = Array.from({ length: 20_000 }, (_, i) => ['SEA', 'SFO', 'LAX', 'JFK'][i % 4]);
const reference: ReferenceProfile = {
  version: 1,
  rows: 20_000,
  features: {
    distance: profileNumeric({ type: 'number', values: referenceValues }, 20),
    origin: profileCategorical(
      { type: 'string', codes: Int32Array.from(referenceCities, (_, i) => i % 4), dict: ['SEA', 'SFO', 'LAX', 'JFK'] },
      50,
    ),
  },
};
const num = reference.features.distance as Extract<ReferenceProfile['features'][string], { kind: 'numeric' }>;
const cat = reference.features.origin as Extract<ReferenceProfile['features'][string], { kind: 'categorical' }>;

test('defaults follow Evidently and come from the optional params.yaml drift section', async () => {
  const defaults = resolveDriftParams();
  assert.deepEqual(defaults, {
    size_cutoff: 1000,
    ks_p_value: 0.05,
    chi2_p_value: 0.05,
    wasserstein_threshold: 0.1,
    jensen_shannon_threshold: 0.1,
    dataset_drift_share: 0.5,
    min_window: 100,
  });
  const text = await readFile('params.yaml', 'utf8');
  assert.deepEqual(parseParams(text).drift, defaults);
  // A params file from before drift monitoring still parses.
  assert.equal(parseParams(text.slice(0, text.indexOf('\ndrift:'))).drift, undefined);
  assert.throws(() => parseParams(`${text}\n  ks_pvalue: 0.01\n`), /drift/);
});

test('method per column type and window size (cut-off inclusive for the tests)', () => {
  const p = resolveDriftParams();
  assert.deepEqual(chooseMethod('numeric', 1000, p), { method: 'ks', threshold: 0.05, test: true });
  assert.deepEqual(chooseMethod('numeric', 1001, p), { method: 'wasserstein', threshold: 0.1, test: false });
  assert.deepEqual(chooseMethod('categorical', 1000, p), { method: 'chi2', threshold: 0.05, test: true });
  assert.deepEqual(chooseMethod('categorical', 1001, p), { method: 'jensen_shannon', threshold: 0.1, test: false });
  assert.equal(chooseMethod('numeric', 50, resolveDriftParams({ size_cutoff: 10 })).method, 'wasserstein');
});

test('a window from the reference distribution does not drift, small or large', () => {
  for (const n of [500, 5000]) {
    const r = detectDrift(reference, {
      numeric: { distance: binAgainst(num, normalSample(n, 99)) },
      categorical: { origin: binAgainst(cat, referenceCities.slice(0, n)) },
    });
    assert.equal(r.dataset_drift, false, `n=${n}`);
    assert.deepEqual(r.drifted_features, []);
    assert.equal(r.features.distance.method, n > 1000 ? 'wasserstein' : 'ks');
    assert.equal(r.features.origin.method, n > 1000 ? 'jensen_shannon' : 'chi2');
    assert.equal(r.features.distance.status, 'ok');
  }
});

test('the reference histogram against itself scores 0 and p = 1', () => {
  const self = { counts: [...num.histogram.counts], below: 0, above: 0, missing: 0 };
  const small = detectDrift(reference, { numeric: { distance: self } }, { size_cutoff: 1e9 });
  assert.equal(small.features.distance.score, 0);
  assert.equal(small.features.distance.p_value, 1);
  const large = detectDrift(reference, {
    numeric: { distance: self },
    categorical: { origin: { counts: { SEA: 5000, SFO: 5000, LAX: 5000, JFK: 5000 }, unseen: 0, missing: 0 } },
  });
  assert.equal(large.features.distance.score, 0);
  assert.equal(large.features.origin.score, 0);
});

test('a shift by half a standard deviation and a changed mix drift; the dataset drifts', () => {
  for (const n of [300, 5000]) {
    const shifted = normalSample(n, 7, 0.5);
    const mix = Array.from({ length: n }, (_, i) => (i % 10 < 7 ? 'SEA' : ['SFO', 'LAX', 'JFK'][i % 3]));
    const r = detectDrift(reference, {
      numeric: { distance: binAgainst(num, shifted) },
      categorical: { origin: binAgainst(cat, mix) },
    });
    assert.deepEqual(r.drifted_features, ['distance', 'origin'], `n=${n}`);
    assert.equal(r.drift_share, 1);
    assert.equal(r.dataset_drift, true);
    const d = r.features.distance;
    if (n > 1000) assert.ok(d.score! > 0.4 && d.score! < 0.6, `normalised W1 ≈ 0.5, got ${d.score}`);
    else assert.ok(d.p_value! < 1e-6);
  }
});

test('unseen categories are counted and drive drift; out-of-range values are reported', () => {
  const cities = [...referenceCities.slice(0, 150), ...Array(50).fill('ORD')];
  const r = detectDrift(reference, {
    categorical: { origin: binAgainst(cat, cities) },
    numeric: { distance: binAgainst(num, [...normalSample(150, 3), ...Array(50).fill(100)]) },
  });
  assert.equal(r.features.origin.unseen, 50);
  assert.equal(r.features.origin.drifted, true);
  assert.equal(r.features.distance.out_of_range, 0.25);
  assert.equal(r.features.distance.drifted, true);
});

test('empty or small windows are "insufficient data": no NaN, no throw, excluded from the share', () => {
  const r = detectDrift(reference, { numeric: { distance: binAgainst(num, normalSample(50, 4, 3)) } });
  for (const f of ['distance', 'origin']) {
    assert.equal(r.features[f].status, 'insufficient_data');
    assert.equal(r.features[f].score, null);
    assert.equal(r.features[f].drifted, false);
    assert.match(r.features[f].reason!, /min_window = 100/);
  }
  assert.deepEqual(r.insufficient_features, ['distance', 'origin']);
  assert.equal(r.drift_share, 0);
  assert.equal(r.dataset_drift, false);
  assert.ok(!JSON.stringify(r).includes('NaN'));
  assert.equal(detectDrift(reference, {}, { min_window: 1 }).features.distance.status, 'insufficient_data');
});

test('the dataset verdict uses dataset_drift_share over evaluated features', () => {
  const mix = Array.from({ length: 400 }, () => 'SEA');
  const oneOfTwo = {
    numeric: { distance: binAgainst(num, normalSample(400, 5)) },
    categorical: { origin: binAgainst(cat, mix) },
  };
  assert.equal(detectDrift(reference, oneOfTwo).dataset_drift, true); // 1/2 ≥ 0.5
  assert.equal(detectDrift(reference, oneOfTwo, { dataset_drift_share: 0.75 }).dataset_drift, false);
});

test('mismatched windows name the problem', () => {
  assert.throws(
    () => detectDrift(reference, { numeric: { speed: { counts: [], below: 0, above: 0, missing: 0 } } }),
    /"speed".*reference profile does not/,
  );
  assert.throws(
    () => detectDrift(reference, { categorical: { distance: { counts: {}, unseen: 0, missing: 0 } } }),
    /numeric in the reference/,
  );
});
