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
  let finish = () => {};
  const read = singleFlight(async () => {
    runs++;
    await new Promise<void>((r) => (finish = r)); // the run stays in progress until the test ends it
    return runs;
  });
  const concurrent = [read(), read(), read()]; // all three asked while the first run is in progress
  assert.equal(runs, 1);
  finish();
  assert.deepEqual(await Promise.all(concurrent), [1, 1, 1]);
  const again = read();
  finish();
  assert.equal(await again, 2);
});
