import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOKEN_WIDTH_BYTES, tokenChecker } from './auth.ts';

const A = 'predict-token-0123456789';
const B = 'second-token-ÄÖÜ-ünïcödé';

test('token check: only an exact token passes, whatever was presented before it', () => {
  const check = tokenChecker([A, B]);
  // Longer, shorter, one byte off, and padded with what the zero padding holds: each must fail,
  // and must leave nothing behind that lets the next (right or wrong) token be judged otherwise.
  const wrong = [A + 'x', A.slice(0, -1), A.slice(0, -1) + '8', A + '\0', '\0' + A, B.normalize('NFD'), 'x'];
  for (const w of wrong) {
    assert.equal(check(w), false, JSON.stringify(w));
    assert.equal(check(A), true, `after ${JSON.stringify(w)}`);
    assert.equal(check(B), true, `after ${JSON.stringify(w)}`);
    assert.equal(check(w), false, `${JSON.stringify(w)} after a right token`);
  }
});

test('token check: tokens beyond the shared width, and presented tokens longer than any', () => {
  const long = 'L'.repeat(TOKEN_WIDTH_BYTES + 40);
  const check = tokenChecker([A, long]);
  assert.equal(check(long), true);
  assert.equal(check(long.slice(1)), false);
  assert.equal(check(long + 'L'), false);
  assert.equal(check('L'.repeat(10 * TOKEN_WIDTH_BYTES)), false);
  assert.equal(check(A), true);
  // Multi-byte characters: as many UTF-16 units as the width, three times as many bytes.
  const wide = tokenChecker(['€'.repeat(TOKEN_WIDTH_BYTES / 4)]);
  assert.equal(wide('€'.repeat(TOKEN_WIDTH_BYTES / 4)), true);
  assert.equal(wide('€'.repeat(TOKEN_WIDTH_BYTES)), false);
  assert.equal(wide('€'.repeat(TOKEN_WIDTH_BYTES / 4 - 1)), false);
});
