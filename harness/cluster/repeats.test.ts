import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repeatCheck, repeatFigures } from './repeats.ts';
import type { FeedbackCall } from './traffic.ts';

const call = (status: number | null, code?: string): FeedbackCall => ({
  index: 0,
  startedAt: 0,
  endedAt: 1,
  status,
  replica: 'replica-2',
  ...(code ? { code } : {}),
});

test('repeats: every one refused passes; one counted again or left undecided fails, named', () => {
  assert.ok(repeatCheck(repeatFigures([call(409), call(409)])).ok);
  const twice = repeatFigures([call(409), call(200), call(503, 'feedback_store_unavailable')]);
  assert.deepEqual(twice, { posted: 3, refused: 1, counted_again: 1, other: { feedback_store_unavailable: 1 } });
  const check = repeatCheck(twice);
  assert.equal(check.ok, false);
  assert.match(check.detail, /3 \/ 1, 1 counted again, other \{"feedback_store_unavailable":1\}/);
  assert.equal(repeatCheck(repeatFigures([])).ok, false, 'a run that posted no repeat proves nothing');
});
