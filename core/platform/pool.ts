/**
 * Run `fn` over `items` with at most `limit` in flight; results keep the input order. Hand-written
 * rather than p-limit: after the first failure no further item starts (p-limit runs every queued
 * task unless its queue is cleared by hand), which matters for uploads and hashing of many files.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (err) {
        failed = true; // stop handing out work; the first error is the one reported
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  return results;
}
