/**
 * What a speculative refit (./refit-off-thread.ts) and the first fit share across threads, in one
 * SharedArrayBuffer: the first fit's best iteration so far (the refit grows no tree past it, so
 * none is wasted when the fit stops), the count it finally chose (set by the main thread), and a
 * generation counter bumped on every change, which the refit's thread waits on.
 */
import type { PendingIterations } from '../gbdt/fit-gbdt.ts';

const GENERATION = 0;
const BEST = 1;
const COUNT = 2;

export const newProgress = (): Int32Array => new Int32Array(new SharedArrayBuffer(3 * 4));

function bump(progress: Int32Array): void {
  Atomics.add(progress, GENERATION, 1);
  Atomics.notify(progress, GENERATION);
}

/** The first fit's thread: a new best validation iteration. */
export function tellBest(progress: Int32Array, iteration: number): void {
  Atomics.store(progress, BEST, iteration);
  bump(progress);
}

/** The main thread: the first fit stopped and kept `iterations` (at least one tree is refitted). */
export function tellCount(progress: Int32Array, iterations: number): void {
  Atomics.store(progress, COUNT, Math.max(1, iterations));
  bump(progress);
}

/**
 * The refit's side: after iteration `it` it goes on only when the first fit has found a best at
 * a later iteration, or stops at the final count; otherwise it sleeps until either changes.
 * Blocking: for a worker thread only (Atomics.wait is refused on the main thread).
 */
export function pendingCount(progress: Int32Array): PendingIterations {
  const next = (ready: () => number | undefined): number => {
    for (;;) {
      // Read the generation first: a change after it wakes the wait at once.
      const generation = Atomics.load(progress, GENERATION);
      const value = ready();
      if (value !== undefined) return value;
      Atomics.wait(progress, GENERATION, generation);
    }
  };
  const count = () => Atomics.load(progress, COUNT) || undefined;
  return {
    after: (it) => next(() => count() ?? (it < Atomics.load(progress, BEST) ? 0 : undefined)),
    wait: () => next(count),
    known: () => count() !== undefined,
  };
}
