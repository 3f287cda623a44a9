import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedRead, singleFlight } from './read-cache.ts';

test('cachedRead computes at most once per max age; 0 means every read', () => {
  let t = 0;
  let calls = 0;
  const read = cachedRead(
    () => ++calls,
    1000,
    () => t,
  );
  assert.equal(read(), 1);
  t = 999;
  assert.equal(read(), 1);
  t = 1000;
  assert.equal(read(), 2);
  const fresh = cachedRead(
    () => ++calls,
    0,
    () => t,
  );
  fresh();
  fresh();
  assert.equal(calls, 4);
});

test('singleFlight shares one run between concurrent callers, then runs again', async () => {
  let runs = 0;
  const read = singleFlight(async () => {
    runs++;
    await new Promise((r) => setTimeout(r, 10));
    return runs;
  });
  assert.deepEqual(await Promise.all([read(), read(), read()]), [1, 1, 1]);
  assert.equal(await read(), 2);
});
