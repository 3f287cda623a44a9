import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadBundle, outputsFromModel } from '../../core/model/bundle.ts';
import { isBlendModel } from '../../core/model/blend.ts';
import { isTreeModel } from '../../core/model/trees.ts';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import { readParquetTable } from '../../core/data/parquet.ts';
import { trainedRepo } from '../../harness/testing/training/pipeline.ts';
import { MODEL_DIR, PREPARED_DIR } from '../contracts/paths.ts';
import { readExperiments } from './experiments.ts';
import { blends } from './blend.ts';
import { GREEDY_ROUNDS } from './blend-weights.ts';

const candidates = [
  { name: 'logreg', model: 'logistic' as const, learning_rate: 0.05 },
  { name: 'gbdt', model: 'gbdt' as const, learning_rate: 0.3, max_iter: 20, max_leaf_nodes: 8, patience: 5 },
];
const blend = { max_rows: 10_000 };
const refit = { epochs: 1, learning_rate_factor: 0.1 };

test('blends: only with train.blend, several candidates, every row held, no screening, and at most max_rows rows', () => {
  const rows = { train: 300, validation: 100, trainSplit: 300, validationSplit: 100 };
  const tp = { blend } as Parameters<typeof blends>[0];
  assert.equal(blends(tp, 2, rows), true);
  assert.equal(blends({ ...tp, blend: undefined }, 2, rows), false);
  assert.equal(blends(tp, 1, rows), false);
  assert.equal(blends({ ...tp, blend: { max_rows: 399 } }, 2, rows), false);
  assert.equal(blends(tp, 2, { ...rows, trainSplit: 301 }), false, 'train.max_rows left rows out');
  assert.equal(blends({ ...tp, screening: { max_rows: 1000 } }, 2, rows), true);
  assert.equal(blends({ ...tp, screening: { max_rows: 1000 } }, 2, { ...rows, train: 1001, trainSplit: 1001 }), false);
});

for (const task of [{}, { type: 'regression' as const, target: 'delay' }]) {
  const kind = 'type' in task ? 'regression' : 'classification';
  test(`${kind}: train.blend serves the weighted mean of every candidate (weights from out-of-fold outputs), each finished and refitted as a winner would be`, async () => {
    const { repo, summary } = await trainedRepo(task, { candidates, blend, recent_refit: refit });
    assert.equal(summary.selected, 'blend:logreg+gbdt');
    assert.equal(summary.calibration, kind === 'classification' ? 'per_member' : undefined, 'metrics/train.json');
    const runs = (await readExperiments(repo)).slice(-2);
    assert.deepEqual(
      runs.map((r) => [r.candidate, r.selected]),
      [
        ['logreg', true],
        ['gbdt', true],
      ],
    );
    const { tf } = await selectBackend({});
    const bundle = await loadBundle(tf, join(repo, MODEL_DIR));
    try {
      const { meta, model } = bundle;
      assert.equal(meta.model_type, 'blend');
      assert.ok(isBlendModel(model));
      const members = meta.blend!.members;
      assert.deepEqual(
        members.map((m) => [m.candidate, m.model_type]),
        [
          ['logreg', 'logistic'],
          ['gbdt', 'gbdt'],
        ],
      );
      const weights = members.map((m) => m.weight);
      assert.ok(Math.abs(weights[0] + weights[1] - 1) < 1e-9, `weights ${weights.join(', ')}`);
      assert.ok(
        weights.every((w) => w >= 1 / (2 + GREEDY_ROUNDS) - 1e-9),
        'greedy selection starts from one of each',
      );
      const weighting = meta.blend!.weighting!;
      assert.equal(weighting.method, 'greedy_out_of_fold');
      assert.equal(weighting.rows, meta.rows.train + meta.rows.validation, 'every train + validation row, out of fold');
      assert.equal(weighting.member_loss.length, 2);
      // Greedy selection never ends worse than the equal mean it starts from, which is no worse than the worse member.
      assert.ok(weighting.blend_loss <= Math.max(...weighting.member_loss) + 1e-4, JSON.stringify(weighting));
      assert.ok(isTreeModel(model.members[1].model));
      // The tree member was boosted again on train + validation; a network refits regression only.
      assert.ok(members[1].recent_refit!.rows > meta.rows.train);
      if (kind === 'classification') {
        assert.ok(
          members.every((m) => m.calibration),
          'each member keeps its own calibration',
        );
        assert.equal(meta.calibration, undefined);
        assert.ok(meta.threshold! > 0 && meta.threshold! < 1);
      } else {
        assert.ok(members[0].recent_refit && members.every((m) => m.target_scaler));
        assert.ok(meta.residual_quantiles?.q50 !== undefined);
      }
      assert.equal(bundle.checkGolden().ok, true);
      const test = await readParquetTable(join(repo, PREPARED_DIR, 'test.parquet'));
      const served = bundle.predictTable(test);
      const [a, b] = model.members.map((m) => outputsFromModel(tf, m.model, m.meta, bundle.spec, test));
      assert.ok(
        a.some((v, i) => Math.abs(v - b[i]) > 1e-3),
        'the members differ, so the mean is not either one',
      );
      const [wa, wb] = model.members.map((m) => m.weight);
      for (let i = 0; i < served.length; i++)
        assert.ok(Math.abs(served[i] - (wa * a[i] + wb * b[i])) < 1e-5, `row ${i}: ${served[i]} vs ${a[i]}, ${b[i]}`);
    } finally {
      bundle.dispose();
    }
  });
}

test('train.blend: a candidate without a finite validation value is left out and the winner is served alone', async () => {
  const diverging = { name: 'wild', model: 'logistic' as const, learning_rate: 1e30 };
  const { summary } = await trainedRepo(
    { type: 'regression', target: 'delay' },
    { candidates: [diverging, candidates[1]], blend, recent_refit: refit },
  );
  assert.equal(summary.selected, 'gbdt');
});
