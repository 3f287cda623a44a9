import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countedAnswers } from './reference.ts';

const a = (replica: string | null, endedAt: number) => ({ replica, endedAt });

test('counted answers: every survivor’s, and the killed replica’s first answers as many as its counters held', () => {
  const answers = [a('r1', 5), a('r3', 9), a('r3', 2), a('r2', 1), a('r3', 4), a(null, 3)];
  assert.deepEqual(countedAnswers(answers, ['r1', 'r2'], { replica: 'r3', counted: 2 }), [
    a('r1', 5),
    a('r2', 1),
    a('r3', 2),
    a('r3', 4),
  ]);
  // Counted before its first scrape: nothing of it; no kill: the survivors only.
  assert.equal(countedAnswers(answers, ['r1', 'r2'], { replica: 'r3', counted: 0 }).length, 2);
  assert.equal(countedAnswers(answers, ['r1', 'r2', 'r3'], undefined).length, 5);
});
