/**
 * Bearer tokens. Comparison hashes both sides to a fixed length and uses timingSafeEqual, so the
 * time taken does not reveal how much of a token matched (nor its length).
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from '../errors.ts';

// One-shot: no Hash object per request (this runs on every authenticated call).
const digest = (s: string) => hash('sha256', s, 'buffer');

export function tokenChecker(tokens: string[]): (presented: string) => boolean {
  const expected = tokens.map(digest);
  return (presented) => {
    const d = digest(presented);
    let ok = false;
    for (const e of expected) ok = timingSafeEqual(d, e) || ok; // no early exit
    return ok;
  };
}

export function requireBearer(headers: IncomingHttpHeaders, check: (t: string) => boolean, what: string): void {
  const header = headers.authorization;
  if (!header) throw new HttpError(401, 'unauthorized', `${what} needs "Authorization: Bearer <token>"`);
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
