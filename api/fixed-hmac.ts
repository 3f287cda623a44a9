/**
 * HMAC-SHA256 (RFC 2104) of one key and fixed-length messages that fit one SHA-256 block after a
 * fixed prefix: what a prediction id's tag is (api/prediction-id.ts). The SHA-256 states after the
 * key's inner and outer pad blocks are computed once; a tag is then two compressions in JavaScript
 * (FIPS 180-4 §6.2.2) instead of two native one-shot hashes of 64 + 53 and 64 + 32 bytes, whose
 * per-call cost (~1.5 µs each) was most of an id's ~4 µs on the request path. The same tag
 * createHmac gives (api/prediction-id.test.ts compares them).
 */
import { hash } from 'node:crypto';

const BLOCK = 64;
/** The most a one-block tail holds: 64 bytes less the 0x80 byte and the 8-byte bit length. */
export const MAX_ONE_BLOCK = BLOCK - 9;

// prettier-ignore
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
const W = new Int32Array(64);

const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));

/** One SHA-256 compression of the 64 bytes at `block[at]` into `state`. */
function compress(state: Int32Array, block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + i * 4;
    W[i] = (block[j] << 24) | (block[j + 1] << 16) | (block[j + 2] << 8) | block[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const a = W[i - 15];
    const b = W[i - 2];
    const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
    const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let e = state[4];
  let f = state[5];
  let g = state[6];
  let h = state[7];
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

/** The last block of a message: `used` bytes of content then SHA-256's padding for `total` bytes. */
function paddedTail(used: number, total: number): Buffer {
  const tail = Buffer.alloc(BLOCK);
  tail[used] = 0x80;
  tail.writeUInt32BE(Math.floor((total * 8) / 2 ** 32), BLOCK - 8);
  tail.writeUInt32BE((total * 8) >>> 0, BLOCK - 4);
  return tail;
}

export class FixedHmac {
  private readonly innerStart = new Int32Array(8);
  private readonly outerStart = new Int32Array(8);
  private readonly state = new Int32Array(8);
  private readonly inner: Buffer;
  private readonly outer: Buffer;
  private readonly at: number;

  constructor(
    secret: Buffer,
    prefix: Buffer,
    private readonly messageBytes: number,
  ) {
    if (prefix.length + messageBytes > MAX_ONE_BLOCK)
      throw new Error(`FixedHmac: a prefix and message of ${prefix.length + messageBytes} bytes exceed one block`);
    const key = secret.length > BLOCK ? hash('sha256', secret, 'buffer') : secret;
    const ipad = Buffer.alloc(BLOCK, 0x36);
    const opad = Buffer.alloc(BLOCK, 0x5c);
    for (let i = 0; i < key.length; i++) {
      ipad[i] ^= key[i];
      opad[i] ^= key[i];
    }
    this.innerStart.set(IV);
    compress(this.innerStart, ipad, 0);
    this.outerStart.set(IV);
    compress(this.outerStart, opad, 0);
    this.inner = paddedTail(prefix.length + messageBytes, BLOCK + prefix.length + messageBytes);
    prefix.copy(this.inner, 0);
    this.at = prefix.length;
    this.outer = paddedTail(32, BLOCK + 32);
  }

  /** The 32-byte tag of `prefix ‖ message`; `message` must have the constructor's length. */
  tag(message: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(32);
    this.tagInto(message, 0, out, 0, 32);
    return out;
  }

  /**
   * The tag of `prefix ‖ message[from, from + the constructor's length)`, its first `length` bytes
   * written into `out` at `outAt`: no buffer allocated and no native call, a prediction id signs
   * its payload in place (the id's buffer holds payload and tag).
   */
  tagInto(message: Uint8Array, from: number, out: Uint8Array, outAt: number, length: number): void {
    const inner = this.inner;
    for (let i = 0, at = this.at; i < this.messageBytes; i++) inner[at + i] = message[from + i];
    const s = this.state;
    s.set(this.innerStart);
    compress(s, inner, 0);
    const outer = this.outer;
    for (let i = 0; i < 8; i++) {
      const v = s[i];
      outer[i * 4] = v >>> 24;
      outer[i * 4 + 1] = v >>> 16;
      outer[i * 4 + 2] = v >>> 8;
      outer[i * 4 + 3] = v;
    }
    s.set(this.outerStart);
    compress(s, outer, 0);
    for (let i = 0; i < length; i++) out[outAt + i] = s[i >> 2] >>> (24 - 8 * (i & 3));
  }
}
