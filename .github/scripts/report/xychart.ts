/**
 * Mermaid `xychart-beta` blocks: charts GitHub draws from text, so a comment shows them with no
 * image hosting at all (fork PRs, private repositories). Labels come from data (feature names,
 * category values from the user's CSV), so every label is reduced to characters that cannot end a
 * quoted string, open a Mermaid directive or close the Markdown fence.
 */
import { checkXychart } from './xychart-check.ts';

export interface XySeries {
  kind: 'line' | 'bar';
  name: string;
  values: readonly number[];
}

export interface XyChartSpec {
  title: string;
  /** Categories (band axis) or a numeric range the values are spread evenly over. */
  x: { title: string; categories: readonly string[] } | { title: string; range: readonly [number, number] };
  y: { title: string; range?: readonly [number, number] };
  series: readonly XySeries[];
}

const MAX_LABEL = 40;

/** Letters, digits and plain punctuation only: no quotes, backticks, `%%` (a Mermaid comment), `#`, brackets or line breaks. */
export function xyLabel(value: string, max = MAX_LABEL): string {
  const clean = value
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N} ._\-–+/():,=&≥≤%]/gu, ' ')
    .replace(/%+/g, '%')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
  return cut || '(blank)';
}

/** Mermaid's number token has no exponent: fixed decimals, trailing zeros dropped. */
export function xyNumber(x: number, digits = 4): string {
  if (!Number.isFinite(x)) throw new Error(`xychart: ${x} is not a finite number`);
  if (Math.abs(x) >= 1e21) return BigInt(Math.round(x)).toString(); // toFixed switches to exponents there
  const s = x.toFixed(digits).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

const quoted = (s: string) => `"${xyLabel(s, 80)}"`;

/**
 * Mermaid's default xychart palette starts with a near-white; these read in GitHub's light and
 * dark themes. An `init` directive (not front matter) because GitHub's Mermaid has honoured it longest.
 */
export const XY_DIRECTIVE =
  '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#2563eb, #f97316, #16a34a, #6b7280"}}}}%%';

/** The diagram text, without the Markdown fence. */
export function xychartSource(spec: XyChartSpec): string {
  const lines = [XY_DIRECTIVE, 'xychart-beta', `  title ${quoted(spec.title)}`];
  if ('categories' in spec.x)
    lines.push(`  x-axis ${quoted(spec.x.title)} [${spec.x.categories.map((c) => `"${xyLabel(c)}"`).join(', ')}]`);
  else lines.push(`  x-axis ${quoted(spec.x.title)} ${xyNumber(spec.x.range[0])} --> ${xyNumber(spec.x.range[1])}`);
  lines.push(
    `  y-axis ${quoted(spec.y.title)}${spec.y.range ? ` ${xyNumber(spec.y.range[0])} --> ${xyNumber(spec.y.range[1])}` : ''}`,
  );
  for (const s of spec.series)
    lines.push(`  ${s.kind} ${quoted(s.name)} [${s.values.map((v) => xyNumber(v)).join(', ')}]`);
  return lines.join('\n');
}

/** A fenced ```mermaid block, checked against Mermaid's grammar before it goes anywhere. */
export function xychartBlock(spec: XyChartSpec): string {
  const source = xychartSource(spec);
  checkXychart(source);
  return '```mermaid\n' + source + '\n```';
}
