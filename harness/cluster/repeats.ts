/**
 * Repeated labels in the cluster run: a share of the labels is posted a second time, straight to
 * a live replica other than the one that joined it (what a client retrying after a lost answer
 * gets from a Service). With the shared dedupe store every such repeat must be refused (409);
 * one answered 200 was counted twice, and the fleet live quality would then differ from one process.
 */
import type { FeedbackCall } from './traffic.ts';

export interface RepeatFigures {
  posted: number;
  refused: number;
  /** Answered 200: joined a second time (double-counted). */
  counted_again: number;
  /** Other answers (e.g. 503: the store could not decide) by status or error. */
  other: Record<string, number>;
}

export function repeatFigures(calls: FeedbackCall[]): RepeatFigures {
  const other: Record<string, number> = {};
  for (const c of calls)
    if (c.status !== 409 && c.status !== 200) {
      const why = c.code ?? (c.status === null ? `network: ${c.error ?? 'no answer'}` : `HTTP ${c.status}`);
      other[why] = (other[why] ?? 0) + 1;
    }
  return {
    posted: calls.length,
    refused: calls.filter((c) => c.status === 409).length,
    counted_again: calls.filter((c) => c.status === 200).length,
    other,
  };
}

export const repeatsText = (r: RepeatFigures) =>
  `${r.posted} / ${r.refused}${r.counted_again ? `, ${r.counted_again} counted again` : ''}${Object.keys(r.other).length ? `, other ${JSON.stringify(r.other)}` : ''}`;

export function repeatCheck(r: RepeatFigures) {
  return {
    name: 'every repeated label refused at another replica (shared dedupe store)',
    ok: r.posted > 0 && r.refused === r.posted,
    detail:
      r.posted === 0 ? 'no repeat was posted (raise --repeat-share)' : `repeats posted / refused ${repeatsText(r)}`,
  };
}
