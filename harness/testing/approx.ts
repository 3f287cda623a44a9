/** Approximate equality for numeric tests: one assertion for the files that compare floating-point results. */
import assert from 'node:assert/strict';

/**
 * An assertion that `actual` is within `tol` of `expected` (|actual − expected| ≤ tol; NaN never
 * is), taking `defaultTol` when a call gives no tolerance; `what` starts the failure message.
 */
export function closeTo(defaultTol: number): (actual: number, expected: number, tol?: number, what?: string) => void {
  return (actual, expected, tol = defaultTol, what = '') =>
    assert.ok(
      Math.abs(actual - expected) <= tol,
      `${what ? `${what}: ` : ''}${actual} vs ${expected} (tolerance ${tol})`,
    );
}
