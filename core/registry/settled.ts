import { mapLimit } from '../platform/pool.ts';

/**
 * Run `fn` over `items` with at most `limit` in flight; on failure start nothing new, but wait for
 * the calls in flight before rethrowing the first error. Cleanup after a failed copy or upload
 * (removing a temporary directory, retrying the registration) must not race writes still running.
 */
export async function forEachSettled<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let failure: { error: unknown } | null = null;
  await mapLimit(items, limit, async (item, index) => {
    if (failure) return;
    try {
      await fn(item, index);
    } catch (error) {
      failure ??= { error };
    }
  });
  if (failure) throw (failure as { error: unknown }).error;
}
