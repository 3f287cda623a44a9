/**
 * Bearer tokens, compared in constant time: the presented token and every allowed one are laid out
 * alike — byte length, UTF-8 bytes, zero padding to one fixed width — and compared whole with
 * timingSafeEqual, so the time taken reveals neither how much of a token matched nor its length.
 * The presented token is written into a buffer allocated once: no hash and no allocation per
 * request. A one-shot SHA-256 of it (OpenSSL's digest machinery and a new Buffer each time) cost
 * 3 µs in process, 6–7 µs of profile samples under load, and the rest of the request ran slower
 * beside it (docs/benchmarks.md, "Auth without a hash").
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from '../errors.ts';

/**
 * Tokens up to this many UTF-8 bytes all share one width, so that width says nothing about them;
 * a longer token widens it (a prober can then tell that some token is at least that long).
 */
export const TOKEN_WIDTH_BYTES = 256;
const LENGTH_BYTES = 4;

export function tokenChecker(tokens: string[]): (presented: string) => boolean {
  const width = Math.max(TOKEN_WIDTH_BYTES, ...tokens.map((t) => Buffer.byteLength(t, 'utf8')));
  const expected = tokens.map((t) => {
    const slot = Buffer.alloc(LENGTH_BYTES + width);
    slot.writeUInt32BE(slot.write(t, LENGTH_BYTES, 'utf8'), 0);
    return slot;
  });
  // UTF-8 needs at most 3 bytes per UTF-16 unit: room for every token of at most `width` units,
  // so the length written is the whole token's, never a truncated one that could match.
  const scratch = Buffer.alloc(LENGTH_BYTES + 3 * width);
  const compared = scratch.subarray(0, LENGTH_BYTES + width);
  // A plain Uint8Array view: its fill skips Buffer#fill's argument handling (seen in profiles).
  const bytes = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);
  return (presented) => {
    // Longer than any allowed token: decided by the presented length alone, which the caller knows.
    if (presented.length > width) return false;
    const n = scratch.write(presented, LENGTH_BYTES, 'utf8');
    scratch.writeUInt32BE(n, 0);
    let ok = false;
    for (const e of expected) ok = timingSafeEqual(compared, e) || ok; // no early exit
    // Back to zero padding for the next request's token.
    bytes.fill(0, LENGTH_BYTES, LENGTH_BYTES + n);
    return ok;
  };
}

export function requireBearer(headers: IncomingHttpHeaders, check: (t: string) => boolean, what: string): void {
  const header = headers.authorization;
  if (!header)
    throw new HttpError(401, 'unauthorized', `a token is needed for ${what}: send "Authorization: Bearer <token>"`);
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new HttpError(401, 'unauthorized', 'the Authorization header must be "Bearer <token>"');
  if (!check(m[1])) throw new HttpError(403, 'forbidden', `this token is not allowed to use ${what}`);
}

/**
 * Who may call a route. public: anyone. predict: API_TOKENS. admin: ADMIN_TOKEN. monitoring
 * (/drift, /feedback): a prediction or admin token when API_TOKENS is set, unless
 * PUBLIC_MONITORING=on. metrics (/metrics): the same, or a scrape token from METRICS_TOKENS, which
 * opens nothing else.
 */
export type Access = 'public' | 'monitoring' | 'metrics' | 'predict' | 'admin';
type Check = (presented: string) => boolean;
export type AccessChecks = Record<Exclude<Access, 'public'>, Check | null>;

export function accessChecks(c: {
  apiTokens: string[];
  adminToken: string | null;
  metricsTokens: string[];
  publicMonitoring: boolean;
}): AccessChecks {
  const readers =
    c.apiTokens.length && !c.publicMonitoring ? [...c.apiTokens, ...(c.adminToken ? [c.adminToken] : [])] : null;
  return {
    predict: c.apiTokens.length ? tokenChecker(c.apiTokens) : null,
    admin: c.adminToken ? tokenChecker([c.adminToken]) : null,
    monitoring: readers && tokenChecker(readers),
    metrics: readers && tokenChecker([...readers, ...c.metricsTokens]),
  };
}

const WHAT: Record<Exclude<Access, 'public'>, string> = {
  predict: 'prediction routes',
  admin: 'admin routes',
  monitoring: 'monitoring reads (or set PUBLIC_MONITORING=on)',
  metrics: 'GET /metrics (or set PUBLIC_MONITORING=on)',
};

/** Throws 401/403 unless the request may use a route of this access; null checks mean open (admin: disabled). */
export function authorize(access: Access, headers: IncomingHttpHeaders, checks: AccessChecks): void {
  if (access === 'public') return;
  const check = checks[access];
  if (check) return requireBearer(headers, check, WHAT[access]);
  if (access === 'admin')
    throw new HttpError(403, 'forbidden', 'admin routes are disabled; set ADMIN_TOKEN to enable them');
}
