/**
 * GitHub-flavoured Markdown building blocks for reports and PR comments. Output depends only on
 * the inputs (fixed number formats, no locale, no clock) so unchanged metrics give unchanged text.
 */

export type Align = 'left' | 'right' | 'center';

// eslint-disable-next-line no-control-regex -- matching control characters is the point: escapeCell makes them visible
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

/**
 * Escape what would break a table cell or start markup: pipes, newlines, HTML angle brackets.
 * Other control characters become visible `\u0001` escapes (raw ones make git call the file binary).
 */
export function escapeCell(value: string | number | boolean | null | undefined): string {
  return String(value ?? '')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n|\t/g, ' ')
    .replace(CONTROL_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A pipe table; cells are escaped unless they are already markdown (wrap with `raw()`). */
export function table(headers: string[], rows: Cell[][], align: Align[] = []): string {
  const sep = headers.map((_, i) => ({ left: '---', right: '---:', center: ':---:' })[align[i] ?? 'left']);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers.map(escapeCell)), line(sep), ...rows.map((r) => line(r.map(cell)))].join('\n');
}

export interface RawMarkdown {
  markdown: string;
}
export type Cell = string | number | null | undefined | RawMarkdown;

/** Mark a cell as markdown that must not be escaped (links, emphasis you built yourself). */
export const raw = (markdown: string): RawMarkdown => ({ markdown });

function cell(c: Cell): string {
  if (c !== null && typeof c === 'object') return c.markdown.replace(/\r?\n/g, ' ');
  if (c === null || c === undefined || c === '') return '—';
  return typeof c === 'number' ? formatNumber(c) : escapeCell(c);
}

/** A collapsible section; blank lines around the body let GitHub render markdown inside it. */
export function details(summary: string, body: string, open = false): string {
  return `<details${open ? ' open' : ''}><summary>${escapeCell(summary)}</summary>\n\n${body.trim()}\n\n</details>`;
}

/**
 * Metric-friendly number: 4 decimals below 1, 3 below 100, 1 below 10,000, then grouped integers.
 * Integers stay integers. Non-finite values are spelled out.
 */
export function formatNumber(x: number, options: { signed?: boolean } = {}): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  const sign = options.signed && x > 0 ? '+' : '';
  const a = Math.abs(x);
  let body: string;
  if (Number.isInteger(x)) body = groupThousands(a.toFixed(0));
  else if (a < 1) body = a.toFixed(4);
  else if (a < 100) body = a.toFixed(3);
  else if (a < 10_000) body = a.toFixed(1);
  else body = groupThousands(a.toFixed(0));
  const negative = x < 0 && Number(body.replace(/,/g, '')) !== 0;
  return `${negative ? '-' : sign}${body}`;
}

export function formatCount(n: number): string {
  return groupThousands(Math.round(n).toFixed(0).replace('-', '')).replace(/^/, n < 0 ? '-' : '');
}

/** Share in [0, 1] as a percentage with `digits` decimals. */
export function formatPercent(share: number, digits = 1): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(digits)}%` : '—';
}

function groupThousands(digits: string): string {
  const [int, frac] = digits.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}
