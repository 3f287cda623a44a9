import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadBundle, outputsFromModel } from '../../core/model/bundle.ts';
import { isBlendModel, type BlendModel } from '../../core/model/blend.ts';
import type { SingleModel } from '../../core/model/bundle-outputs.ts';
import { isTreeModel } from '../../core/model/trees.ts';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import { readParquetTable } from '../../core/data/parquet.ts';
import { trainedRepo } from '../../harness/testing/training/pipeline.ts';
import { MODEL_DIR, PREPARED_DIR } from '../contracts/paths.ts';
import { readExperiments } from './experiments.ts';
import { blends, blendWeighting, validationBlend, VALIDATION_ROUNDS } from './blend.ts';
import { GREEDY_ROUNDS } from './blend-weights.ts';

const candidates = [
  { name: 'logreg', model: 'logistic' as const, learning_rate: 0.05 },
  { name: 'gbdt', model: 'gbdt' as const, learning_rate: 0.3, max_iter: 20, max_leaf_nodes: 8, patience: 5 },
];
const blend = { max_rows: 10_000 };

type Bundle = Awaited<ReturnType<typeof loadBundle>>;

/** The trained repo's bundle, which must be a blend, given to `check` and disposed after. */
async function withBlendBundle(
  repo: string,
  check: (
    bundle: Bundle,
    model: BlendModel<SingleModel>,
    tf: Awaited<ReturnType<typeof selectBackend>>['tf'],
  ) => void | Promise<void>,
) {
  const { tf } = await selectBackend({});
  const bundle = await loadBundle(tf, join(repo, MODEL_DIR));
  try {
    assert.equal(bundle.meta.model_type, 'blend');
    assert.ok(isBlendModel(bundle.model));
    await check(bundle, bundle.model, tf);
  } finally {
    bundle.dispose();
  }
}

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
    await withBlendBundle(repo, async (bundle, model, tf) => {
      const { meta } = bundle;
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
      // A small table's tree member kept the recipe with the lower out-of-fold loss, and the
      // blend weighed it by that recipe's out-of-fold outputs.
      const recipe = members[1].tree_recipe!;
      assert.ok(recipe && members[0].tree_recipe === undefined, 'only the tree member chooses a recipe');
      assert.equal(recipe.chosen, recipe.reference_loss < recipe.own_loss ? 'reference' : 'own');
      assert.equal(weighting.member_loss[1], Math.min(recipe.own_loss, recipe.reference_loss));
      if (recipe.chosen === 'reference') assert.equal(members[1].recent_refit!.iterations, recipe.reference.max_iter);
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
    });
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

test('blendWeighting: train.blend first, else train.validation_blend for its tasks (regression by default), never with one candidate or a screening sample', () => {
  const small = { train: 300, validation: 100, trainSplit: 300, validationSplit: 100 };
  const large = { train: 2_000_000, validation: 300_000, trainSplit: 2_000_000, validationSplit: 300_000 };
  const tp = {} as Parameters<typeof blendWeighting>[0];
  assert.equal(blendWeighting({ ...tp, blend }, 'classification', 2, small), 'out_of_fold');
  assert.equal(blendWeighting({ ...tp, blend }, 'regression', 2, large), 'validation', 'above train.blend.max_rows');
  assert.equal(blendWeighting(tp, 'regression', 2, large), 'validation', 'regression by default');
  assert.equal(blendWeighting(tp, 'classification', 2, large), undefined, 'classification not by default');
  assert.equal(blendWeighting({ ...tp, validation_blend: 'all' }, 'classification', 2, large), 'validation');
  assert.equal(blendWeighting({ ...tp, validation_blend: 'off' }, 'regression', 2, large), undefined);
  assert.equal(blendWeighting({ ...tp, blend, validation_blend: 'off' }, 'regression', 2, small), 'out_of_fold');
  assert.equal(blendWeighting(tp, 'regression', 1, large), undefined);
  assert.equal(blendWeighting({ ...tp, screening: { max_rows: 300_000 } }, 'regression', 2, large), undefined);
  assert.equal(blendWeighting({ ...tp, screening: { max_rows: 3_000_000 } }, 'regression', 2, large), 'validation');
});

test('validationBlend: the mix that minimises the validation loss (steps of 1/rounds), and no mix when one member alone is best', () => {
  // y is exactly 0.7 a + 0.3 b, a and b each wrong on their own: the squared error is least at b's weight 0.3.
  const n = 2000;
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = Math.sin(i * 0.37) * 10;
    a[i] = t + (i % 7) - 3;
    b[i] = t - (7 / 3) * ((i % 7) - 3);
    y[i] = 0.7 * a[i] + 0.3 * b[i];
  }
  const { weights, record } = validationBlend(y, [a, b], { task: 'regression', primary: 'rmse' });
  assert.ok(Math.abs(weights[1] - 0.3) <= 1 / VALIDATION_ROUNDS, `weights ${weights.join(', ')}`);
  assert.ok(Math.abs(weights[0] + weights[1] - 1) < 1e-9);
  assert.equal(record.method, 'greedy_validation');
  assert.equal(record.folds, 0, 'no folds: the validation split');
  assert.equal(record.rows, n);
  assert.equal(record.loss, 'squared_error');
  assert.ok(record.blend_loss < Math.min(...record.member_loss) / 10, JSON.stringify(record));
  const mae = validationBlend(y, [a, b], { task: 'regression', primary: 'mae' });
  assert.equal(mae.record.loss, 'absolute_error');
  assert.ok(Math.abs(mae.weights[1] - 0.3) <= 2 / VALIDATION_ROUNDS, `mae weights ${mae.weights.join(', ')}`);
  // b plus noise adds nothing to b: b alone, weight 0 for the other (train then serves one candidate).
  const noisy = Float32Array.from(b, (v, i) => v + ((i * 7919) % 13) - 6);
  const alone = validationBlend(b, [noisy, b], { task: 'regression', primary: 'rmse' });
  assert.deepEqual(alone.weights, [0, 1]);
  assert.equal(alone.record.blend_loss, 0);
});

const networks = [
  { name: 'logreg', model: 'logistic' as const, learning_rate: 0.05 },
  { name: 'mlp', model: 'mlp' as const, hidden: [8], embedding_dim: 2, learning_rate: 0.01 },
];

test('regression: train.validation_blend (the default) serves the candidates weighted on validation before their refit', async () => {
  const { repo, summary } = await trainedRepo(
    { type: 'regression', target: 'delay' },
    { candidates: networks, recent_refit: refit },
  );
  assert.equal(summary.selected, 'blend:logreg+mlp');
  const runs = (await readExperiments(repo)).slice(-2);
  assert.deepEqual(
    runs.map((r) => r.selected),
    [true, true],
  );
  await withBlendBundle(repo, (bundle) => {
    const { meta } = bundle;
    const weighting = meta.blend!.weighting!;
    assert.equal(weighting.method, 'greedy_validation');
    assert.equal(weighting.rows, meta.rows.validation, 'the validation rows only');
    // From empty, the first round takes the best member alone: the mix is no worse than it on validation.
    assert.ok(weighting.blend_loss <= Math.min(...weighting.member_loss), JSON.stringify(weighting));
    const weights = meta.blend!.members.map((m) => m.weight);
    assert.ok(
      weights.every((w) => w > 0 && Math.abs(w * VALIDATION_ROUNDS - Math.round(w * VALIDATION_ROUNDS)) < 1e-9),
      `weights ${weights.join(', ')} in steps of 1/${VALIDATION_ROUNDS}`,
    );
    assert.ok(
      meta.blend!.members.every((m) => m.recent_refit?.rows === meta.rows.validation),
      'each member refitted on validation after the weights were chosen',
    );
    assert.equal(bundle.checkGolden().ok, true);
  });
  const off = await trainedRepo(
    { type: 'regression', target: 'delay' },
    { candidates: networks, recent_refit: refit, validation_blend: 'off' },
  );
  assert.notEqual(off.summary.selected, 'blend:logreg+mlp', 'off: one candidate selected');
});

test('train.validation_blend: when no mix beats the best candidate alone on validation, it is served alone', async () => {
  // On these rows the trees' validation error is a third of the logistic model's.
  const { repo, summary } = await trainedRepo(
    { type: 'regression', target: 'delay' },
    { candidates, recent_refit: refit },
  );
  assert.equal(summary.selected, 'gbdt');
  const runs = (await readExperiments(repo)).slice(-2);
  assert.deepEqual(
    runs.map((r) => [r.candidate, r.selected]),
    [
      ['logreg', false],
      ['gbdt', true],
    ],
  );
});
