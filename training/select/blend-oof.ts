/**
 * Out-of-fold outputs of a blend's members over train + validation: each member fitted again on
 * four fifths of those rows with the budget it was given (a network's epoch count chosen on
 * validation, the trees' cross-validated iteration count), and its outputs taken on the fifth it
 * did not see, in its served units and calibration. On a small table they give every row one
 * out-of-sample output per member, four to five times the rows validation alone has to weigh
 * the members on (training/select/blend-weights.ts).
 */
import type { FeatureSpec } from '../../core/model/features.ts';
import { encodeFeatures, encodeTarget } from '../../core/model/features.ts';
import { concatTables, takeRows, type Table } from '../../core/data/table.ts';
import type { Logger } from '../../core/platform/log.ts';
import { seededRandom } from '../../core/platform/random.ts';
import type { CandidateConfig } from '../../core/model/network.ts';
import { calibrateAll, type Calibration } from '../../core/model/calibration.ts';
import { applyTemperature } from '../../core/model/multiclass-metrics.ts';
import { treeOutputs } from '../../core/model/trees.ts';
import { refitTreesOnAll } from '../gbdt/fit-gbdt.ts';
import { fitCandidate, permutation, type PrimaryMetric } from '../fit.ts';

export interface OofMember {
  cfg: CandidateConfig;
  /** Epochs (a network) or boosting iterations (trees) each fold fits, decided before the folds. */
  budget: number;
  calibration?: Calibration;
  /** Its out-of-fold outputs already taken on the same folds (training/select/tree-recipe.ts): not fitted again. */
  outputs?: Float32Array;
}

export interface OofOptions {
  task: 'classification' | 'regression';
  primary: PrimaryMetric;
  seed: number;
  batchSize: number;
  folds: number;
  classes?: number;
  classWeight?: Record<number, number>;
  targetScaler?: { mean: number; std: number };
  log: Logger;
}

/** Which fold each of `n` rows is held out in: a seeded shuffle dealt round-robin, so fold sizes differ by at most one. */
export function foldOf(n: number, folds: number, seed: number): Int32Array {
  const order = permutation(n, seededRandom(seed + 11));
  const fold = new Int32Array(n);
  order.forEach((row, i) => (fold[row] = i % folds));
  return fold;
}

/** Each member's outputs for every train + validation row (train rows first), each from a fit that had not seen that row. */
export async function outOfFoldOutputs(
  tf: Parameters<typeof fitCandidate>[0],
  members: OofMember[],
  spec: FeatureSpec,
  tables: { train: Table; validation: Table },
  o: OofOptions,
): Promise<{ y: Float32Array; outputs: Float32Array[] }> {
  const all = concatTables([tables.train, tables.validation]);
  const y = encodeTarget(spec.target, all.columns[spec.target.column]);
  const fold = foldOf(all.length, o.folds, o.seed);
  const k = o.classes && o.classes > 1 ? o.classes : 1;
  const silent: Logger = { ...o.log, info() {}, debug() {}, child: () => silent, enabled: () => false };
  const outputs = members.map((m) => m.outputs ?? new Float32Array(all.length * k));
  const s = o.targetScaler;
  for (let f = 0; f < o.folds; f++) {
    const held = Int32Array.from(fold.keys()).filter((i) => fold[i] === f);
    const kept = Int32Array.from(fold.keys()).filter((i) => fold[i] !== f);
    const heldTable = takeRows(all, held);
    const keptTable = takeRows(all, kept);
    const rows = (table: Table) => ({
      enc: encodeFeatures(spec, table),
      y: encodeTarget(spec.target, table.columns[spec.target.column]),
    });
    const train = rows(keptTable);
    const heldRows = rows(heldTable);
    for (const [m, member] of members.entries()) {
      if (member.outputs) continue;
      let out: Float32Array;
      if (member.cfg.model === 'gbdt') {
        const fit = refitTreesOnAll(
          member.cfg,
          spec,
          { train: keptTable, validation: takeRows(all, []) },
          member.budget,
          { ...o, classes: o.classes, log: silent },
        );
        out = treeOutputs(fit.model, spec, heldTable, null, heldRows.enc);
        if (s) out = out.map((v) => v * s.std + s.mean);
        fit.model.dispose();
      } else {
        const fit = await fitCandidate(
          tf,
          member.cfg,
          { train, validation: heldRows },
          { ...o, maxEpochs: Math.max(1, member.budget), patience: member.budget, keepLast: true, log: silent },
        );
        out = fit.validationPredictions;
        fit.model.dispose();
      }
      const c = member.calibration;
      // Multi-class members carry a temperature over the class probabilities; a binary calibration maps each probability.
      if (c) out = c.method === 'temperature' && k > 1 ? applyTemperature(out, k, c.temperature) : calibrateAll(c, out);
      held.forEach((row, i) => outputs[m].set(out.subarray(i * k, (i + 1) * k), row * k));
    }
  }
  return { y, outputs };
}
