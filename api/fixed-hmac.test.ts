import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { FixedHmac, MAX_ONE_BLOCK } from './fixed-hmac.ts';

test('FixedHmac gives the tags createHmac gives, for keys of 0–200 bytes and every prefix/message split of one block', () => {
  let seed = 5;
  const bytes = (n: number) =>
    Buffer.from(Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
  for (const keyBytes of [0, 1, 32, 63, 64, 65, 200]) {
    const key = bytes(keyBytes);
    for (const prefixBytes of [0, 3, 17]) {
      const prefix = bytes(prefixBytes);
      for (const messageBytes of [0, 1, 36, MAX_ONE_BLOCK - prefixBytes]) {
        const mac = new FixedHmac(key, prefix, messageBytes);
        // The same object several times: a tag must not depend on the one before.
        for (let i = 0; i < 4; i++) {
          const message = bytes(messageBytes);
          const want = createHmac('sha256', key).update(prefix).update(message).digest();
          assert.deepEqual(
            mac.tag(message),
            want,
            `key ${keyBytes} B, prefix ${prefixBytes} B, message ${messageBytes} B`,
          );
        }
      }
    }
  }
});

test('FixedHmac refuses a prefix and message longer than one block', () => {
  assert.throws(() => new FixedHmac(Buffer.from('k'), Buffer.alloc(20), MAX_ONE_BLOCK - 19), /exceed one block/);
});
