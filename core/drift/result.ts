/**
 * The shape every drift statistic returns. A window too small to judge is a value, not an
 * exception or a NaN, so dashboards and alerts can show "not enough data" instead of breaking.
 */
export type TestResult = { ok: true; statistic: number; pValue?: number } | { ok: false; reason: string };

export const insufficient = (reason: string): TestResult => ({ ok: false, reason });

export function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

/** Finite values, sorted ascending (NaN and ±Infinity are treated as missing). */
export function sortedFinite(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out.push(values[i]);
  return Float64Array.from(out).sort();
}

export function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length)
    throw new Error(
      `${what}: reference has ${a.length} bins but current has ${b.length}; bin the current window against the reference edges (binAgainst)`,
    );
}

/** Missing in any input form: null, undefined, NaN or ±Infinity. */
export const isMissing = (v: unknown): boolean =>
  v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v));
