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

test('tagInto signs a message inside a larger buffer and writes the tag prefix in place, as tag does', () => {
  const key = Buffer.from('a key of some thirty-two bytes!!');
  const mac = new FixedHmac(key, Buffer.from('k2.'), 36);
  for (let n = 0; n < 5; n++) {
    const id = Buffer.alloc(52, n);
    for (let i = 0; i < 36; i++) id[i] = (i * 37 + n * 11) & 255;
    const want = createHmac('sha256', key).update('k2.').update(id.subarray(0, 36)).digest();
    mac.tagInto(id, 0, id, 36, 16);
    assert.deepEqual(id.subarray(36), want.subarray(0, 16), `id ${n}`);
    const shifted = Buffer.concat([Buffer.alloc(5, 9), id.subarray(0, 36)]);
    const out = Buffer.alloc(40, 0xee);
    mac.tagInto(shifted, 5, out, 3, 32);
    assert.deepEqual(out.subarray(3, 35), want, `offsets ${n}`);
    assert.equal(out[2], 0xee, 'nothing written before outAt');
    assert.equal(out[35], 0xee, 'nothing written past the length');
  }
});
