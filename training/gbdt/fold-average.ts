/**
 * A small table's tree winner as the mean of its k-fold models: every fold boosts on the other
 * folds and stops early on its own, and the K ensembles are averaged into one. Raw scores add up
 * over trees, so the mean of K ensembles is itself an ensemble — all their trees with leaf values
 * divided by K, base scores averaged — and the bundle, serving and trees.json checks take it as
 * they take any other. On a few hundred rows one refit with one iteration count inherits the noise
 * of that count; the mean of K early-stopped fits averages both the count and the fits' variance.
 */
import type { FeatureSpec } from '../../core/model/features.ts';
import { encodeFeatures, encodeTarget } from '../../core/model/features.ts';
import { concatTables, type Table } from '../../core/data/table.ts';
import type { Logger } from '../../core/platform/log.ts';
import { seededRandom } from '../../core/platform/random.ts';
import { treeModel, treeOutputs, type TreeEnsembleJson, type TreeModel } from '../../core/model/trees.ts';
import type { PrimaryMetric } from '../fit.ts';
import { permutation } from '../permutation.ts';
import { boost, type Objective } from './boost.ts';
import { fitInputs } from './inputs.ts';
import { boostParams, GBDT_DEFAULTS, inputOptions, stoppingRule, type GbdtConfig } from './fit-gbdt.ts';

/**
 * One ensemble whose raw score is the mean of the given ensembles' raw scores. They must read the
 * same inputs (the same bins): a tree's split indexes into its ensemble's `inputs`.
 */
export function averageEnsembles(models: readonly TreeEnsembleJson[]): TreeEnsembleJson {
  if (!models.length) throw new Error('averageEnsembles: no ensembles to average');
  const [first] = models;
  const k = first.classes;
  for (const m of models) {
    if (m.objective !== first.objective || m.classes !== k)
      throw new Error(`averageEnsembles: ${m.objective}/${m.classes} beside ${first.objective}/${k}`);
    if (m.inputs !== first.inputs && JSON.stringify(m.inputs) !== JSON.stringify(first.inputs))
      throw new Error('averageEnsembles: the ensembles read different inputs; fit them on the same bins');
    // Tree t adds to class t mod k: a partial iteration would shift the classes of the trees after it.
    if (m.trees.length % k !== 0)
      throw new Error(`averageEnsembles: ${m.trees.length} trees is not a whole number of ${k}-class iterations`);
  }
  const n = models.length;
  return {
    format: 1,
    objective: first.objective,
    classes: k,
    base_score: first.base_score.map((_, c) => models.reduce((s, m) => s + m.base_score[c], 0) / n),
    inputs: first.inputs,
    trees: models.flatMap((m) => m.trees.map((t) => ({ ...t, value: t.value.map((v) => v / n) }))),
  };
}

export interface FoldAverage {
  model: TreeModel;
  /** Each fold's kept iterations (its best on its held rows). */
  perFold: number[];
  /** The averaged model's outputs for the validation rows (uncalibrated, unscaled). */
  predictions: Float32Array;
  rows: number;
  seconds: number;
}

/**
 * `folds` ensembles over train + validation, each stopped early on its held fold by the primary
 * metric, averaged. The inputs (bin edges, category bins, target statistics) are fitted once on
 * all the rows, so that the fold models share them.
 */
export function foldAveragedTrees(
  cfg: GbdtConfig,
  spec: FeatureSpec,
  tables: { train: Table; validation: Table },
  folds: number,
  o: {
    seed: number;
    primary: PrimaryMetric;
    task?: 'classification' | 'regression';
    classes?: number;
    classWeight?: Record<number, number>;
    targetScaler?: { mean: number; std: number };
    log: Logger;
  },
): FoldAverage {
  const started = performance.now();
  const all = concatTables([tables.train, tables.validation]);
  const y = encodeTarget(spec.target, all.columns[spec.target.column]);
  const s = o.targetScaler;
  const yScaled = s ? y.map((v) => (v - s.mean) / s.std) : y;
  const unscale = (p: Float32Array) => (s ? p.map((v) => v * s.std + s.mean) : p);
  const k = o.classes && o.classes > 1 ? o.classes : 1;
  const objective: Objective =
    (o.task ?? 'regression') === 'regression' ? 'regression' : k > 1 ? 'multiclass' : 'binary';
  const weight = o.classWeight ? Float32Array.from(y, (v) => o.classWeight![v] ?? 1) : undefined;
  const fitted = fitInputs(
    spec,
    encodeFeatures(spec, all),
    all,
    yScaled,
    inputOptions({ ...GBDT_DEFAULTS, ...cfg }, o.seed, k),
  );
  const width = fitted.inputs.length;
  const order = permutation(all.length, seededRandom(o.seed + 7));
  const rowsOf = (idx: Int32Array) => {
    const bins = new Uint8Array(idx.length * width);
    idx.forEach((r, i) => bins.set(fitted.bins.subarray(r * width, (r + 1) * width), i * width));
    return {
      bins,
      y: Float32Array.from(idx, (r) => yScaled[r]),
      weight: weight && Float32Array.from(idx, (r) => weight[r]),
      yOriginal: Float32Array.from(idx, (r) => y[r]),
    };
  };
  const models: TreeEnsembleJson[] = [];
  const perFold: number[] = [];
  for (let f = 0; f < folds; f++) {
    const kept = rowsOf(order.filter((_, i) => i % folds !== f));
    const held = rowsOf(order.filter((_, i) => i % folds === f));
    const result = boost(
      objective,
      k,
      fitted.inputs,
      fitted.binCounts,
      kept,
      held,
      boostParams(cfg, kept.y.length),
      undefined,
      stoppingRule(o.primary, objective, k, held.yOriginal, unscale),
    );
    models.push(result.model);
    perFold.push(result.bestIteration);
  }
  const model = treeModel(averageEnsembles(models));
  const predictions = unscale(treeOutputs(model, spec, tables.validation, null));
  const seconds = (performance.now() - started) / 1000;
  o.log.info(
    `${cfg.name}: mean of ${folds} fold ensembles over ${all.length} train + validation rows (iterations ${perFold.join(', ')}; ${seconds.toFixed(1)} s)`,
  );
  return { model, perFold, predictions, rows: all.length, seconds };
}
