import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterNewestTag, type GitContext } from './gto-tags.ts';

const ctxAt = (newestTagTime: number) => ({ newestTagTime }) as GitContext;
const second = () => Math.floor(Date.now() / 1000);

test('tagging waits for the second after the model’s newest tag, as GTO orders events by whole seconds', async () => {
  const newest = second();
  await afterNewestTag(ctxAt(newest));
  assert.ok(second() > newest, 'a tag made now sorts after the newest one');
});

test('no wait after an older tag, and none for a tag stamped far ahead by another clock', async () => {
  for (const newest of [0, second() - 5, second() + 60]) {
    const t0 = performance.now();
    await afterNewestTag(ctxAt(newest));
    assert.ok(performance.now() - t0 < 100, `newest ${newest}`);
  }
});
