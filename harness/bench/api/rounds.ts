/**
 * What each server of `npm run bench:api` is sent in its slices of a round. A ratio compares two
 * targets that receive the same request bytes: the API as `npm start` serves it against the
 * trivial server with the same body, and the API with API_TOKENS against the trivial server with
 * the same body and the same `Authorization` header (which it ignores). Without that second
 * reference the auth ratio charged the check for ~70 more bytes per request to read and parse,
 * work the trivial server never did. Pure, so the pairing is tested without servers.
 */
import type { LoadOptions } from './load.ts';

export type TargetLabel = 'real' | 'trivial' | 'auth' | 'trivial-auth' | 'baseline' | 'workers';

export interface Target {
  label: TargetLabel;
  load: LoadOptions;
}

export interface RoundPlan {
  path: string;
  body: string;
  /** Every target sends these in turn instead of `body` (BENCH_RECORDS=distinct). */
  bodies?: string[];
  connections: number;
  /** The request headers that carry the bearer token. */
  auth: Record<string, string>;
  urls: { real: string; trivial: string; auth: string; baseline?: string | null; workers?: string | null };
}

export function planTargets(plan: RoundPlan): Target[] {
  const request = (url: string, headers?: Record<string, string>): LoadOptions => ({
    url,
    path: plan.path,
    body: plan.body,
    ...(plan.bodies ? { bodies: plan.bodies } : {}),
    ...(headers ? { headers } : {}),
    connections: plan.connections,
  });
  const { urls } = plan;
  const targets: Target[] = [
    { label: 'real', load: request(urls.real) },
    { label: 'trivial', load: request(urls.trivial) },
    { label: 'auth', load: request(urls.auth, plan.auth) },
    { label: 'trivial-auth', load: request(urls.trivial, plan.auth) },
  ];
  // The baseline runs with API_TOKENS (an A/B of the authenticated path), so it carries the header.
  if (urls.baseline) targets.push({ label: 'baseline', load: request(urls.baseline, plan.auth) });
  if (urls.workers) targets.push({ label: 'workers', load: request(urls.workers) });
  return targets;
}

/**
 * The order in which round `round` loads `n` targets: the rows of a balanced Latin square
 * (Williams design; for odd n its mirror rows follow). Over n rounds (2n when n is odd) every target
 * takes every position once and follows every other target equally often. A plain rotation makes
 * each target always follow the same one, so whatever a server leaves behind when its slice ends
 * (its idle-time garbage collection on the shared core, a warm or cold cache) always lands on the
 * same neighbour: it charged the API_TOKENS rounds, which always followed the trivial server.
 */
export function sliceOrder(n: number, round: number): number[] {
  const first: number[] = [];
  for (let j = 0, lo = 0, hi = n - 1; j < n; j++) first.push(j % 2 === 0 ? lo++ : hi--);
  const r = round % balancedRounds(n);
  const row = first.map((t) => (t + (r % n)) % n);
  return r < n ? row : row.reverse();
}

/** How many rounds make the square complete for n targets (sliceOrder repeats after that). */
export const balancedRounds = (n: number): number => (n % 2 === 0 ? n : 2 * n);
