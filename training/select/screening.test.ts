import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainedRepo } from '../../harness/testing/training/pipeline.ts';
import { readExperiments } from './experiments.ts';
import { screeningSample } from './screening.ts';
import { makeTable } from '../../core/data/table.ts';
import type { FeatureSpec } from '../../core/model/features.ts';

test('screening: every candidate fits the same seeded sample, only the winner fits every training row', async () => {
  const { repo, summary, log } = await trainedRepo({}, { screening: { max_rows: 150 } });
  const runs = await readExperiments(repo);
  assert.equal(runs.length, 2);
  const winner = runs.find((r) => r.selected)!;
  const loser = runs.find((r) => !r.selected)!;
  assert.equal(winner.candidate, summary.selected);
  const all = winner.rows_train!;
  assert.ok(all > 150, `the fixture's train split (${all} rows) is larger than max_rows`);
  assert.equal(loser.rows_train, 150);
  assert.deepEqual(loser.screening, { sample_rows: 150, of_rows: all, seed: 42 });
  const s = winner.screening as Record<string, number>;
  assert.equal(s.sample_rows, 150);
  assert.ok(Number.isFinite(s.validation_roc_auc) && s.duration_s >= 0);
  // The run's own figures are the full fit's, which the summary reports.
  assert.equal(winner.val.roc_auc, (summary as Record<string, unknown>).validation_roc_auc);
  assert.ok(
    log.lines.some((l: string) => /screening: every candidate fits the same seeded sample of 150 of the/.test(l)),
  );

  const one = await trainedRepo(
    {},
    { screening: { max_rows: 150 }, candidates: [{ name: 'logreg', model: 'logistic', learning_rate: 0.05 }] },
  );
  const oneRuns = await readExperiments(one.repo);
  assert.equal(oneRuns[0].screening, undefined, 'one candidate: nothing to screen');
  assert.equal(oneRuns[0].rows_train, all);
  const off = await trainedRepo({}, { screening: { max_rows: 100_000 } });
  const offRuns = await readExperiments(off.repo);
  assert.ok(
    offRuns.every((r) => r.rows_train === all && r.screening === undefined),
    'below max_rows nothing is sampled',
  );
});

test('the screening sample is seeded, without repeats, in the original row order', () => {
  const values = Float64Array.from({ length: 1000 }, (_, i) => i);
  const table = makeTable({ x: { type: 'number', values }, y: { type: 'number', values } });
  const spec = { features: [], target: { column: 'y', type: 'regression' } } as unknown as FeatureSpec;
  const a = screeningSample(spec, table, 100, 7)!;
  const b = screeningSample(spec, table, 100, 7)!;
  const c = screeningSample(spec, table, 100, 8)!;
  const xs = (s: typeof a) => Array.from((s.rows.table.columns.x as { values: Float64Array }).values);
  assert.deepEqual(xs(a), xs(b));
  assert.notDeepEqual(xs(a), xs(c));
  assert.equal(new Set(xs(a)).size, 100);
  assert.deepEqual(
    xs(a),
    [...xs(a)].sort((p, q) => p - q),
  );
  assert.deepEqual(a.record, { sample_rows: 100, of_rows: 1000, seed: 7 });
  assert.equal(screeningSample(spec, table, 1000, 7), undefined);
  assert.equal(screeningSample(spec, table, undefined, 7), undefined);
});
