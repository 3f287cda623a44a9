/**
 * train.prune: a network stops once another candidate's validation metric is out of its reach.
 * Trees boosting on a worker beside it post each new best validation value to a board shared
 * across threads; after each epoch the network asks whether that value beats the best it could
 * still reach. It could not be selected, so its remaining epochs would only cost time (on all
 * flights a network epoch is ~11 s of one core, which the trees and their refit want).
 *
 * "Could reach" is generous, so a network that might still win is not stopped: its best so far
 * plus, for every epoch left up to max_epochs (not only until patience would stop it), the larger
 * of its last two epochs' gains. Learning curves flatten; a network whose gains grow again after
 * shrinking could be stopped too early, which is why the rival's value is only ever its best so
 * far (the trees' final value is at least that) and the decision waits for two epochs.
 */
import { HIGHER_IS_BETTER, isBetter, type PrimaryMetric } from './candidate-metrics.ts';

export interface Pruned {
  /** The epoch after which the network stopped. */
  at_epoch: number;
  /** The other candidate's best validation value at that moment. */
  rival: number;
  /** The best value the network could have reached by max_epochs at its recent pace. */
  reachable: number;
}

/**
 * Whether to stop after the last epoch of `history` (values of the primary metric per epoch),
 * given the best value so far and the rival's (NaN: none yet).
 */
export function outranked(
  primary: PrimaryMetric,
  history: readonly { epoch: number; value: number }[],
  best: number,
  maxEpochs: number,
  rival: number,
): Pruned | undefined {
  const n = history.length;
  if (n < 2 || !Number.isFinite(rival) || !Number.isFinite(best)) return undefined;
  const up = HIGHER_IS_BETTER[primary] ? 1 : -1;
  const gain = (i: number) => (i >= 1 ? up * (history[i].value - history[i - 1].value) : 0);
  const pace = Math.max(0, gain(n - 1), gain(n - 2));
  if (!Number.isFinite(pace)) return undefined;
  const epoch = history[n - 1].epoch;
  const reachable = best + up * pace * Math.max(0, maxEpochs - epoch);
  return isBetter(primary, rival, reachable) ? { at_epoch: epoch, rival, reachable } : undefined;
}

/** The board: one float64 over a SharedArrayBuffer, NaN until a rival posts. */
export function newBoard(): Float64Array {
  const board = new Float64Array(new SharedArrayBuffer(8));
  board[0] = NaN;
  return board;
}

/**
 * A rival's new best value; the board keeps the best posted. The trees' worker and the main thread
 * (a finished network) can post at once, and a race can leave the lesser of two values until the
 * trees' next best: the board is a hint that only ever holds a value some candidate reached, so a
 * lost update prunes less, never wrongly.
 */
export function post(board: Float64Array, primary: PrimaryMetric, value: number): void {
  if (!Number.isFinite(value)) return;
  if (Number.isNaN(board[0]) || isBetter(primary, value, board[0])) board[0] = value;
}

/** The best value posted so far (NaN: none). A float64 read of a shared word: fine for a hint. */
export const rivalBest = (board: Float64Array): number => board[0];
