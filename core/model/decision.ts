/**
 * The decision rule of a classifier, defined once for every consumer (the API's answers and
 * prediction counters, live feedback metrics, evaluation, register's comparison, batch scoring):
 * a probability at or above the bundle's threshold is labelled 1, anything else 0. A leaf module
 * (no imports), so quality-metrics.ts can use it without an import cycle through forward.ts.
 */

/** The threshold of a classification bundle whose bundle.json records none. */
export const DEFAULT_THRESHOLD = 0.5;

/** A classification bundle's decision threshold: the one chosen on validation (bundle.json `threshold`), else 0.5. */
export function decisionThreshold(meta: { threshold?: number }): number {
  return meta.threshold ?? DEFAULT_THRESHOLD;
}

/** The label of probability `p`: 1 at or above `threshold`, else 0 (NaN is 0). */
export function labelAt(p: number, threshold: number): 0 | 1 {
  return p >= threshold ? 1 : 0;
}
