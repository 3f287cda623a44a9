/**
 * Timestamps are epoch milliseconds read as UTC wall-clock time: the flights file stores local
 * times without a zone, and treating every source the same way keeps hour-of-day features equal
 * in training and serving.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

const MAX_OFFSET_MINUTES = 14 * 60;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Digits at [at, at + n) of `s` as a number; -1 when one is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * `YYYY-MM-DDTHH:MM:SS.sssZ` (what toISOString writes and most clients send), read by position:
 * the API parses one per request, and the regex path cost as much as the model call's features.
 * Undefined when the text has another shape (the general parser decides).
 */
function canonicalIso(t: string): number | undefined {
  if (t.length !== 24 || t.charCodeAt(23) !== 90 /* Z */) return undefined;
  if (t[4] !== '-' || t[7] !== '-' || t[10] !== 'T' || t[13] !== ':' || t[16] !== ':' || t[19] !== '.')
    return undefined;
  const y = digits(t, 0, 4);
  const mo = digits(t, 5, 2);
  const d = digits(t, 8, 2);
  const h = digits(t, 11, 2);
  const mi = digits(t, 14, 2);
  const s = digits(t, 17, 2);
  const ms = digits(t, 20, 3);
  // Years below 100 go the general way: Date.UTC reads them as 19xx.
  if (y < 100 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || ms < 0) return undefined;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && !leap ? 28 : DAYS_IN_MONTH[mo - 1]) || h > 23 || mi > 59 || s > 59)
    return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

/** Parse an ISO-8601-like date or date-time; NaN when it is not one or names an impossible date. */
export function parseTimestamp(text: string): number {
  const fast = canonicalIso(text);
  if (fast !== undefined) return fast;
  const m = ISO.exec(text.trim());
  if (!m) return NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const check = new Date(t);
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  )
    return NaN;
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2));
    // Real offsets run from -12:00 to +14:00; anything beyond ±14:00 (or :60 and up) is not a zone.
    if (minutes > 59 || hours * 60 + minutes > MAX_OFFSET_MINUTES) return NaN;
    t -= sign * (hours * 60 + minutes) * 60_000;
  }
  return t;
}

export function formatTimestamp(ms: number): string | null {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/**
 * A value of the data's time column as people read it: an ISO instant, or, for a table without
 * time (ordered by its records: `rowOrder`), the record's number ("row 344", not 1970-01-01T00:00:00.344Z).
 */
export function formatOrderValue(v: number, rowOrder: boolean): string | null {
  if (!rowOrder) return formatTimestamp(v);
  return Number.isFinite(v) ? `row ${v}` : null;
}
