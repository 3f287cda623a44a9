/**
 * Bearer tokens. Comparison hashes both sides to a fixed length and uses timingSafeEqual, so the
 * time taken does not reveal how much of a token matched (nor its length).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from '../errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

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
