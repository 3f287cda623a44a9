import { test } from 'node:test';
import { createHmac } from 'node:crypto';
import assert from 'node:assert/strict';
import {
  MAX_PREDICTION_ID_CHARS,
  PREDICTION_ID_PATTERN,
  PredictionIdSigner,
  createSigner,
  formatSigningKey,
  parseSigningKeys,
  randomSigningKey,
} from './prediction-id.ts';

const SECRET_A = 'a'.repeat(32);
const SECRET_B = 'b-secret-0123456789-0123456789-xyz';

test('an id carries version, exact value, threshold and issue time, and verifies under the same keys', () => {
  const signer = new PredictionIdSigner(parseSigningKeys(`k2:${SECRET_A}`));
  const id = signer.issue(7, 0.1 + 0.2, 0.366, 1_764_000_000_123);
  assert.ok(id.startsWith('k2.') && id.length <= MAX_PREDICTION_ID_CHARS, id);
  const v = new PredictionIdSigner(parseSigningKeys(`k2:${SECRET_A}`)).verify(id);
  assert.ok(v.ok);
  assert.deepEqual(
    { ...v.claims, nonce: typeof v.claims.nonce },
    {
      version: 7,
      value: 0.1 + 0.2,
      threshold: 0.366,
      issuedAt: 1_764_000_000_123,
      nonce: 'string',
    },
  );
  const r = signer.verify(signer.issue(2, 37.5, null, 0));
  assert.ok(r.ok && r.claims.threshold === null && r.claims.value === 37.5, 'regression: no threshold');
  const again = signer.verify(signer.issue(7, 0.3, 0.366, 1_764_000_000_123));
  assert.ok(again.ok && again.claims.nonce !== v.claims.nonce, 'the same prediction twice gets two ids');
});

test('the signing tag is HMAC-SHA256 as createHmac computes it, for short, 64-byte and longer-than-a-block secrets', () => {
  for (const secret of [SECRET_A, 'c'.repeat(64), 'd-'.repeat(50)]) {
    const signer = new PredictionIdSigner(parseSigningKeys(`kx:${secret}`));
    for (let i = 0; i < 3; i++) {
      const id = signer.issue(3 + i, 0.25 * i, 0.5, 1_764_000_000_000 + i);
      const bytes = Buffer.from(id.slice(3), 'base64url');
      const expected = createHmac('sha256', secret).update('kx.').update(bytes.subarray(0, 36)).digest();
      assert.deepEqual(bytes.subarray(36), expected.subarray(0, 16), `secret of ${secret.length} chars, id ${i}`);
      assert.ok(signer.verify(id).ok);
    }
  }
});

test('altered, forged, foreign-key and malformed ids are refused with what went wrong', () => {
  const signer = new PredictionIdSigner(parseSigningKeys(`k2:${SECRET_A},k1:${SECRET_B}`));
  const id = signer.issue(1, 0.25, 0.5, Date.now());
  const bytes = Buffer.from(id.slice(3), 'base64url');
  bytes.writeDoubleBE(0.99, 20); // claim another probability
  const altered = signer.verify(`k2.${bytes.toString('base64url')}`);
  assert.ok(!altered.ok && altered.reason === 'bad_signature', JSON.stringify(altered));
  assert.match(altered.message, /does not verify/);
  // the same content signed with a key of the same name but another secret
  const forged = signer.verify(
    new PredictionIdSigner([{ id: 'k2', secret: Buffer.from(SECRET_B) }]).issue(1, 0.25, 0.5),
  );
  assert.ok(!forged.ok && forged.reason === 'bad_signature');
  // a valid id moved to the other key's name
  const moved = signer.verify(`k1.${id.slice(3)}`);
  assert.ok(!moved.ok && moved.reason === 'bad_signature', 'the key id is under the tag');
  const foreign = signer.verify(
    new PredictionIdSigner([{ id: 'k0', secret: Buffer.from(SECRET_A) }]).issue(1, 0.25, 0.5),
  );
  assert.ok(!foreign.ok && foreign.reason === 'unknown_key');
  assert.match(foreign.message, /key "k0", which this replica does not hold/);
  for (const bad of [
    'no-such-id',
    'k2.',
    `k2.${id.slice(3, -1)}`,
    `k2.${id.slice(3)}A`,
    '0b7e9f3c-6ab1-4d8e-9d0f-0e6e2f1f4c11',
  ]) {
    const m = signer.verify(bad);
    assert.ok(!m.ok && m.reason === 'malformed', bad);
    assert.match(m.message, /is unknown/);
  }
  // base64url's last character has spare bits: another spelling of the same bytes is not accepted
  const last = id.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const twin = id.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
  assert.equal(signer.verify(twin).ok, false);
});

test('rotation: the first key signs, every listed key verifies; a key removed from the list is refused', () => {
  const old = new PredictionIdSigner(parseSigningKeys(`k1:${SECRET_B}`));
  const rotated = new PredictionIdSigner(parseSigningKeys(`k2:${SECRET_A},k1:${SECRET_B}`));
  const retired = new PredictionIdSigner(parseSigningKeys(`k2:${SECRET_A}`));
  const before = old.issue(3, 0.7, 0.5);
  assert.ok(rotated.verify(before).ok, 'ids of the old key still join during rotation');
  assert.ok(rotated.issue(3, 0.7, 0.5).startsWith('k2.'));
  assert.equal(retired.verify(before).ok, false);
});

test('PREDICTION_ID_KEYS errors name the entry and the fix; unset means one random key and one warning', () => {
  assert.throws(() => parseSigningKeys(' , '), /holds no key/);
  assert.throws(() => parseSigningKeys(SECRET_A), /entry 1: the key id/);
  assert.throws(() => parseSigningKeys('k 1:' + SECRET_A), /entry 1/);
  assert.throws(() => parseSigningKeys('k1:short'), /key "k1": the secret has 5 characters, at least 32/);
  assert.throws(() => parseSigningKeys(`k1:${SECRET_A},k1:${SECRET_B}`), /names key "k1" twice/);
  assert.deepEqual(
    parseSigningKeys(`k2:${SECRET_A}, k1:${SECRET_B}:with-colon`).map((k) => [k.id, k.secret.toString()]),
    [
      ['k2', SECRET_A],
      ['k1', `${SECRET_B}:with-colon`],
    ],
  );
  const warnings: string[] = [];
  const signer = createSigner(null, (m) => warnings.push(m));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /PREDICTION_ID_KEYS is not set/);
  assert.match(signer.keyIds[0], /^r[0-9a-f]{8}$/);
  // what a WORKERS>1 primary hands its workers: each parses the same string to the same key
  const env = formatSigningKey(randomSigningKey());
  const worker = () => new PredictionIdSigner(parseSigningKeys(env));
  assert.ok(worker().verify(worker().issue(1, 0.5, 0.5)).ok);
});

test('PREDICTION_ID_PATTERN (what the docs and the OpenAPI document show) matches every issued id and no other form', () => {
  const shape = new RegExp(PREDICTION_ID_PATTERN);
  const longest = new PredictionIdSigner([{ id: 'k'.repeat(16), secret: Buffer.alloc(32, 1) }]);
  const random = new PredictionIdSigner([randomSigningKey()]);
  for (const signer of [longest, random])
    for (const threshold of [0.5, null]) {
      const id = signer.issue(3, 0.25, threshold);
      assert.match(id, shape);
      assert.ok(id.length <= MAX_PREDICTION_ID_CHARS);
      // Whatever fails the pattern, verify refuses as malformed: the pattern is not looser than the check.
      for (const other of [
        id.slice(0, -1),
        id + 'A',
        id.replace('.', ''),
        `${'k'.repeat(17)}${id.slice(id.indexOf('.'))}`,
      ]) {
        assert.doesNotMatch(other, shape);
        assert.equal(signer.verify(other).ok, false);
      }
    }
  assert.doesNotMatch('ce1af4fa-f0af-4d00-9949-f07dd12140e4', shape);
});
