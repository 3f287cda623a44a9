/**
 * Curves onto an even grid. A Mermaid xychart spreads a line's values evenly along a numeric
 * x-axis (it has no x,y pairs), so ROC and precision–recall curves are read off at x = 0, 5 %, …,
 * 100 % first. Pure functions of the evaluate stage's points.
 */
import type { PrPoint, RocPoint } from '../../../core/charts/index.ts';

/** `steps + 1` evenly spaced points from 0 to 1. */
export function unitGrid(steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`grid steps must be a positive integer, got ${steps}`);
  return Array.from({ length: steps + 1 }, (_, i) => i / steps);
}

/**
 * True positive rate at each false positive rate of the grid: linear between the curve's points;
 * where the curve climbs vertically at one FPR, the top of the climb (every threshold that keeps
 * that FPR is available, so the best TPR at it is reachable).
 */
export function rocAt(points: readonly RocPoint[], grid: readonly number[]): number[] {
  const pts = points
    .filter((p) => Number.isFinite(p.fpr) && Number.isFinite(p.tpr))
    .map((p) => ({ x: p.fpr, y: p.tpr }))
    .sort((a, b) => a.x - b.x || a.y - b.y);
  if (!pts.length) throw new Error('ROC curve has no finite points');
  return grid.map((x) => {
    let lo = -1;
    for (let i = 0; i < pts.length && pts[i].x <= x; i++) lo = i;
    if (lo === -1) return pts[0].y;
    const hi = pts.findIndex((p) => p.x > x);
    if (hi === -1 || pts[lo].x === x) return pts[lo].y;
    const a = pts[lo];
    const b = pts[hi];
    return a.y + ((b.y - a.y) * (x - a.x)) / (b.x - a.x);
  });
}

/**
 * Interpolated precision at each recall of the grid: the best precision at that recall or more
 * (the usual monotone envelope of a precision–recall curve). 0 past the curve's largest recall.
 */
export function precisionAt(points: readonly PrPoint[], grid: readonly number[]): number[] {
  const pts = points.filter((p) => Number.isFinite(p.recall) && Number.isFinite(p.precision));
  if (!pts.length) throw new Error('precision–recall curve has no finite points');
  return grid.map((r) =>
    pts.reduce((best, p) => (p.recall >= r - 1e-12 && p.precision > best ? p.precision : best), 0),
  );
}
