import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checks,
  compareDrift,
  compareQuality,
  exactLiveQuality,
  feedbackFigures,
  fleetDriftScores,
  fleetDriftVerdicts,
  qualityByVersion,
  predictionFigures,
  renderTable,
  type Verdict,
} from './summary.ts';
import type { FeedbackCall } from './traffic.ts';

const pairs = [
  { predicted: 0.9, threshold: 0.5, actual: 1 },
  { predicted: 0.4, threshold: 0.3, actual: 1 }, // labelled 1 by its own threshold: correct
  { predicted: 0.2, threshold: 0.5, actual: 0 },
  { predicted: 0.6, threshold: 0.5, actual: 0 }, // wrong
];

test('one-process figures: accuracy by each answer’s own threshold, exact ROC-AUC', () => {
  const q = exactLiveQuality('classification', pairs);
  assert.equal(q.accuracy, 0.75);
  // Positives 0.9, 0.4; negatives 0.2, 0.6: 3 of 4 pairs ordered right.
  assert.equal(q.roc_auc, 0.75);
  assert.deepEqual(exactLiveQuality('regression', [{ predicted: 3, actual: 1 }]), { mae: 2, rmse: 2 });
  assert.deepEqual(exactLiveQuality('classification', []), {});
});

test('fleet quality: equal within the binning error of the exact figure; no data is a failure, not a crash', () => {
  const ok = compareQuality('classification', pairs, { accuracy: 0.7505, roc_auc: 0.755 }, null);
  assert.deepEqual(
    ok.map((r) => r.ok),
    [true, true],
  );
  const off = compareQuality('classification', pairs, { accuracy: 0.76, roc_auc: 0.75 }, null);
  assert.deepEqual(
    off.map((r) => r.ok),
    [false, true],
  );
  const none = compareQuality('classification', pairs, {}, null);
  assert.ok(none.every((r) => !r.ok && r.fleet === null));
});

test('with the binned reference function, the fleet figure must match it within rounding', () => {
  const binned = () => ({ accuracy: 0.75, roc_auc: 0.74 });
  const rows = compareQuality('classification', pairs, { accuracy: 0.75, roc_auc: 0.7401 }, binned);
  assert.equal(rows[1].one_process_binned, 0.74);
  assert.equal(rows[1].tolerance, 1e-6);
  assert.deepEqual(
    rows.map((r) => r.ok),
    [true, false],
  );
});

const call = (over: Partial<FeedbackCall>): FeedbackCall => ({
  index: 0,
  startedAt: 0,
  endedAt: 1,
  status: 200,
  replica: 'replica-1',
  ...over,
});

test('feedback: only failures under way on the killed replica at the kill are excused', () => {
  const kill = { replica: 'replica-3', atMs: 100 };
  const f = feedbackFigures(
    [
      call({}),
      call({ status: null, replica: null, startedAt: 90, endedAt: 120, error: 'fetch failed' }),
      call({ status: 404, code: 'unknown_prediction', startedAt: 200, endedAt: 210 }),
      call({ status: 404, code: 'unknown_prediction', replica: 'replica-3', startedAt: 10, endedAt: 20 }),
    ],
    kill,
  );
  assert.equal(f.posted, 4);
  assert.equal(f.joined, 1);
  assert.equal(f.lost_to_kill, 1);
  assert.deepEqual(f.failures, { 'network: fetch failed': 1, unknown_prediction: 2 });
  assert.equal(f.joined_share, 1 / 3);
});

const verdict = (over: Partial<Verdict> = {}): Verdict => ({
  predictions: predictionFigures([
    { index: 0, startedAt: 0, endedAt: 1, status: 200, replica: 'replica-1', version: 1 },
  ]),
  feedback: feedbackFigures([call({})]),
  quality: compareQuality('classification', pairs, { accuracy: 0.75, roc_auc: 0.75 }, null),
  drift: compareDrift({ distance: true, origin: false }, { distance: true, origin: false }),
  promotion: { version: 2, converged_ms: 800, bound_ms: 30_000 },
  unexpected_exits: [],
  ...over,
});

test('the verdict: every check passes on a correct run, and each one fails on its own fault', () => {
  assert.ok(checks(verdict()).every((c) => c.ok));
  const failing = (v: Verdict) =>
    checks(v)
      .filter((c) => !c.ok)
      .map((c) => c.name);
  assert.deepEqual(
    failing(
      verdict({
        predictions: predictionFigures([
          { index: 0, startedAt: 0, endedAt: 1, status: 502, replica: null, error: 'bad gateway' },
        ]),
      }),
    ),
    ['0 failed predictions'],
  );
  assert.equal(
    failing(verdict({ feedback: feedbackFigures([call({ status: 404, code: 'unknown_prediction' })]) })).length,
    1,
  );
  assert.equal(failing(verdict({ feedback: feedbackFigures([]) })).length, 1, 'nothing posted is not a pass');
  assert.deepEqual(failing(verdict({ drift: compareDrift({ distance: true }, { distance: false }) })), [
    'fleet drift verdicts = one process',
  ]);
  assert.deepEqual(failing(verdict({ promotion: { version: 2, converged_ms: null, bound_ms: 30_000 } })), [
    'every live replica serves v2',
  ]);
  assert.deepEqual(failing(verdict({ promotion: { version: 2, converged_ms: 40_000, bound_ms: 30_000 } })), [
    'every live replica serves v2',
  ]);
  const crashed = checks(
    verdict({ unexpected_exits: [{ replica: 'replica-2', how: 'code 1', output: 'Error: out of memory' }] }),
  ).filter((c) => !c.ok);
  assert.deepEqual(
    crashed.map((c) => c.name),
    ['no replica exited but the one killed'],
  );
  assert.match(crashed[0].detail, /replica-2 exited \(code 1\).*\n.*out of memory/);
});

test('missing fleet rules are reported as no data, naming where the names live', () => {
  const list = checks(
    verdict({
      quality: compareQuality('classification', pairs, {}, null),
      drift: compareDrift({ distance: true }, {}),
    }),
  );
  const quality = list.find((c) => c.name === 'fleet live quality = one process')!;
  assert.equal(quality.ok, false);
  assert.match(quality.detail, /no data: Prometheus has no fleet accuracy, fleet roc_auc .*contract\.ts/);
  assert.match(list.find((c) => c.name.startsWith('fleet drift'))!.detail, /no data: .*distance/);
  const table = renderTable(verdict(), checks(verdict()));
  assert.match(table, /^predictions sent \/ failed\s+1 \/ 0$/m);
  assert.match(table, /^PASS {2}0 failed predictions/m);
});

test('per model version when the fleet rules keep a version label, over every pair when they do not', () => {
  const versioned = [
    ...pairs.slice(0, 2).map((p) => ({ ...p, version: 1 })),
    ...pairs.slice(2).map((p) => ({ ...p, version: 2 })),
  ];
  const series = (version: string | undefined, metric: string, value: number) => ({
    labels: { metric, ...(version ? { version } : {}) },
    value,
  });
  const rows = qualityByVersion(
    'classification',
    versioned,
    [series('1', 'accuracy', 1), series('2', 'accuracy', 0.5), series('2', 'roc_auc', 0.2)],
    undefined,
  );
  assert.deepEqual(
    rows.map((r) => [r.group, r.metric, r.fleet, r.ok]),
    [
      ['v1', 'accuracy', 1, true],
      // Only positives in v1: no ROC-AUC, and none expected.
      ['v1', 'roc_auc', null, false],
      ['v2', 'accuracy', 0.5, true],
      ['v2', 'roc_auc', 0.2, false],
    ],
  );
  const all = qualityByVersion('classification', versioned, [series(undefined, 'accuracy', 0.75)], null);
  assert.deepEqual(
    all.map((r) => [r.group, r.metric, r.ok]),
    [
      ['all', 'accuracy', true],
      ['all', 'roc_auc', false],
    ],
  );
});

test('fleet drift verdicts: the promoted version’s series, or every series when they carry no version', () => {
  const s = (feature: string, value: number, version?: string) => ({
    labels: { feature, ...(version ? { version } : {}) },
    value,
  });
  assert.deepEqual(fleetDriftVerdicts([s('distance', 1, '1'), s('distance', 0, '2'), s('origin', 1, '2')], 2), {
    distance: false,
    origin: true,
  });
  assert.deepEqual(fleetDriftVerdicts([s('distance', 1)], 2), { distance: true });
});

test('drift: no verdict on both sides agrees; a verdict against none does not', () => {
  assert.deepEqual(
    compareDrift({ hour: null, distance: true }, { distance: true }).map((d) => d.ok),
    [true, true],
  );
  assert.deepEqual(
    compareDrift({ distance: true }, {}).map((d) => d.ok),
    [false],
  );
  const nothing = checks(verdict({ drift: compareDrift({ hour: null }, {}) })).find((c) =>
    c.name.startsWith('fleet drift'),
  )!;
  assert.equal(nothing.ok, false, 'a run where nothing got a verdict proves nothing');
  assert.match(nothing.detail, /too few values .* raise --requests/);
});

test('drift: a score within BORDERLINE of its threshold agrees with either verdict, but not with none', () => {
  const rows = compareDrift({ prediction: 'borderline', origin: 'borderline' }, { prediction: false, origin: null });
  assert.deepEqual(
    rows.map((r) => [r.feature, r.ok]),
    [
      ['prediction', true],
      ['origin', false],
    ],
  );
});

test('drift: the prediction track is judged like an input feature; the scores are shown beside the verdicts', () => {
  const drift = (d: ReturnType<typeof compareDrift>) =>
    checks(verdict({ drift: d })).find((c) => c.name.startsWith('fleet drift'))!;
  const off = drift(
    compareDrift(
      { prediction: true, origin: false },
      { prediction: false, origin: false },
      { one_process: { prediction: 0.1123, origin: 0.02 }, fleet: { prediction: 0.0871, origin: 0.02 } },
    ),
  );
  assert.equal(off.ok, false);
  assert.match(off.detail, /prediction: fleet false, one process true \(scores 0\.087100 vs 0\.112300\)/);
  const table = renderTable(
    verdict({ drift: compareDrift({ prediction: false }, { prediction: false }, { fleet: { prediction: 0.05 } }) }),
    [],
  );
  assert.match(table, /drift prediction: fleet vs one process +stable vs stable \(scores 0\.050000 vs —\)/);
});

test('drift: equal verdicts with scores apart by more than the tolerance do not agree', () => {
  const rows = compareDrift(
    { prediction: false, origin: true },
    { prediction: false, origin: true },
    { one_process: { prediction: 0.05, origin: 0.3 }, fleet: { prediction: 0.0505, origin: 0.31 } },
  );
  assert.deepEqual(
    rows.map((r) => [r.feature, r.ok]),
    [
      ['prediction', true],
      ['origin', false],
    ],
  );
});

test('fleet drift scores: the promoted version’s series', () => {
  const s = (feature: string, value: number, version: string) => ({ labels: { feature, version }, value });
  assert.deepEqual(fleetDriftScores([s('prediction', 0.2, '1'), s('prediction', 0.09, '2')], 2), { prediction: 0.09 });
});
