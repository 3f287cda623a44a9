/**
 * The settings of a `model: gbdt` candidate that depend on how many rows it fits: one count
 * cannot suit 400 rows and 2 million. fit-gbdt.ts caps min_samples_leaf by the row count; the
 * train stage's refit of a tree winner asks isSmall whether to choose its iteration count by
 * cross-validation (training/gbdt/cv-iterations.ts).
 */

/**
 * Up to this many rows (train + validation) a table is small: one validation split is too few
 * rows to choose an iteration count (scikit-learn's HistGradientBoosting does not stop early
 * below 10,000 rows either).
 */
export const SMALL_DATA_ROWS = 10_000;
/** Folds of the cross-validation that chooses a small table's iteration count. */
export const CV_FOLDS = 5;

export const isSmall = (rows: number) => rows <= SMALL_DATA_ROWS;

/**
 * min_samples_leaf is capped at 2 % of the training rows (at least 5), e.g. 100 for the quick
 * default's 100k rows, 5 for 243 cars. (A floor of 20, scikit-learn's default, measured worse on
 * the cars-mpg regression over five split seeds: mean −3.7 % vs −2.9 % against the reference.)
 */
export function effectiveMinSamplesLeaf(configured: number, rows: number): number {
  return Math.min(configured, Math.max(5, Math.floor(rows / 50)));
}
