/**
 * Reads that cost more than a few milliseconds (live quality over the feedback window, drift
 * statistics) are computed at most once per `maxAgeMs` however many clients ask, so dashboards
 * or an attacker polling them cannot take CPU from predictions. 0 recomputes on every read.
 */
export function cachedRead<T>(
  compute: () => T,
  maxAgeMs: number,
  now: () => number = () => performance.now(),
): () => T {
  let value: T;
  let at = -Infinity;
  return () => {
    const t = now();
    if (maxAgeMs <= 0 || t - at >= maxAgeMs) {
      value = compute();
      at = t;
    }
    return value;
  };
}

/** Concurrent callers of an async read share one run (e.g. simultaneous /metrics scrapes). */
export function singleFlight<T>(run: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => (pending ??= run().finally(() => (pending = null)));
}
