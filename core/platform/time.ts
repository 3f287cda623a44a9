/**
 * Timestamps are epoch milliseconds read as UTC wall-clock time: the flights file stores local
 * times without a zone, and treating every source the same way keeps hour-of-day features equal
 * in training and serving.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

const MAX_OFFSET_MINUTES = 14 * 60;

/** Parse an ISO-8601-like date or date-time; NaN when it is not one or names an impossible date. */
export function parseTimestamp(text: string): number {
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
