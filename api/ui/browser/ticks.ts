/** Tick labels of the monitoring page's histograms (pure: tested in node by api/ui/ticks.test.ts). */

/** A tick under a bar: a numeric bin by its lower edge in 3 significant digits (0.000210–0.113 → 0.00021), a category by its first 8 characters. */
export function tickLabel(label: string | number, numeric: boolean): string {
  if (!numeric) return String(label).slice(0, 8);
  const lower = Number(String(label).split('–')[0]);
  return Number.isFinite(lower) ? String(Number(lower.toPrecision(3))) : String(label).slice(0, 8);
}
