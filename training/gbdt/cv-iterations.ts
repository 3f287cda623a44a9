/**
 * The iteration count for a small table's refit on train + validation, chosen by k-fold
 * cross-validation over those rows rather than by the one validation split: on a few hundred rows
 * the best iteration of one split of ~80 rows is mostly noise (cars-mpg: validation says 21,
 * the test rows 63–217), while the mean over folds uses every row once for stopping.
 */
import type { FeatureSpec } from '../../core/model/features.ts';
import { encodeFeatures, encodeTarget } from '../../core/model/features.ts';
import { concatTables, takeRows, type Table } from '../../core/data/table.ts';
import type { Logger } from '../../core/platform/log.ts';
import { seededRandom } from '../../core/platform/random.ts';
import { permutation } from '../permutation.ts';
import { fitGbdt, type GbdtConfig } from './fit-gbdt.ts';

export function cvIterations(
  cfg: GbdtConfig,
  spec: FeatureSpec,
  tables: { train: Table; validation: Table },
  folds: number,
  o: Omit<Parameters<typeof fitGbdt>[3], 'log'> & { log: Logger },
): { iterations: number; perFold: number[] } {
  const all = concatTables([tables.train, tables.validation]);
  const order = permutation(all.length, seededRandom(o.seed + 7));
  const rowsOf = (idx: Int32Array) => {
    const table = takeRows(all, idx);
    return { table, enc: encodeFeatures(spec, table), y: encodeTarget(spec.target, table.columns[spec.target.column]) };
  };
  const silent: Logger = { ...o.log, info() {}, debug() {}, child: () => silent, enabled: () => false };
  const perFold: number[] = [];
  for (let f = 0; f < folds; f++) {
    const held = order.filter((_, i) => i % folds === f);
    const kept = order.filter((_, i) => i % folds !== f);
    const fit = fitGbdt(cfg, spec, { train: rowsOf(kept), validation: rowsOf(held) }, { ...o, log: silent });
    perFold.push(fit.bestEpoch);
    fit.model.dispose();
  }
  const iterations = Math.max(1, Math.round(perFold.reduce((s, v) => s + v, 0) / folds));
  return { iterations, perFold };
}
