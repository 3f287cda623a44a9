/**
 * Prediction ids that carry what `POST /feedback` needs to join a label to its prediction (model
 * version, served value, threshold, issue time), signed with HMAC-SHA256, so whichever replica
 * gets the label verifies and joins it with no shared store. A Kubernetes Service spreads
 * requests at random: with ids that only the issuing process remembered, 2 of 3 labels were lost
 * at 3 replicas, 11 of 12 at 12.
 *
 * Id = `<key id>.<base64url(payload ‖ tag)>`. Payload (36 bytes, big-endian): format 1, flags
 * (bit 0: classification, so the threshold is set), model version u32, issue time in ms u48, a
 * nonce (4 random bytes per process + a u32 counter: unique across replicas), the served value
 * f64 (exact, so the feedback answer repeats the probability the client saw), the threshold f64.
 * Tag: the first 16 bytes of HMAC-SHA256(key, key id ‖ "." ‖ payload) (128 bits; truncation as
 * NIST SP 800-107 allows). The key id is under the tag, so an id cannot be moved to another key.
 * Keys come from PREDICTION_ID_KEYS (`k2:<secret>,k1:<secret>`): the first signs, all verify,
 * which is how a key is rotated without refusing the labels of ids issued in the last 24 h.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { FixedHmac } from './fixed-hmac.ts';

const FORMAT = 1;
const PAYLOAD_BYTES = 36;
const TAG_BYTES = 16;
const ID_BYTES = PAYLOAD_BYTES + TAG_BYTES;
/** base64url of 52 bytes, unpadded. */
const BODY_CHARS = Math.ceil((ID_BYTES * 4) / 3);
const BODY = new RegExp(`^[A-Za-z0-9_-]{${BODY_CHARS}}$`);
const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
const MIN_SECRET_CHARS = 32;
/**
 * The form of every id this service issues, `<key id>.<base64url body>`, as a JSON Schema / ECMAScript
 * pattern: what the OpenAPI document and the docs examples show (a signature check is verify's).
 */
export const PREDICTION_ID_PATTERN = `^[A-Za-z0-9_-]{1,16}\\.[A-Za-z0-9_-]{${BODY_CHARS}}$`;
/** The longest id any key can produce (longest key id + "." + body): what /feedback accepts. */
export const MAX_PREDICTION_ID_CHARS = 16 + 1 + BODY_CHARS;

export interface SigningKey {
  id: string;
  secret: Buffer;
}

/** What a verified id says about its prediction. */
export interface PredictionClaims {
  version: number;
  value: number;
  /** The decision threshold it was served with; null for regression. */
  threshold: number | null;
  /** Issue time, ms since the epoch. */
  issuedAt: number;
  /** Unique per issued prediction across the fleet: the key of the seen-set that refuses repeats. */
  nonce: string;
}

export type Verified =
  | { ok: true; claims: PredictionClaims; keyId: string }
  | { ok: false; reason: 'malformed' | 'unknown_key' | 'bad_signature'; message: string };

/** `k2:<secret>,k1:<secret>` → keys, the signing one first. Errors name the entry and what to do. */
export function parseSigningKeys(raw: string): SigningKey[] {
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0)
    throw new Error(
      'PREDICTION_ID_KEYS is set but holds no key: give "<key id>:<secret>[,<older key id>:<secret>]", or unset it (each replica then signs with its own random key)',
    );
  const keys = entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    const secret = colon < 0 ? '' : entry.slice(colon + 1);
    if (!KEY_ID.test(id))
      throw new Error(
        `PREDICTION_ID_KEYS entry ${i + 1}: the key id must be 1–16 letters, digits, "-" or "_" before a ":" (e.g. k2:<secret>)`,
      );
    if (secret.length < MIN_SECRET_CHARS)
      throw new Error(
        `PREDICTION_ID_KEYS key "${id}": the secret has ${secret.length} characters, at least ${MIN_SECRET_CHARS} are needed (openssl rand -base64 32)`,
      );
    return { id, secret: Buffer.from(secret, 'utf8') };
  });
  const dup = keys.find((k, i) => keys.findIndex((o) => o.id === k.id) !== i);
  if (dup) throw new Error(`PREDICTION_ID_KEYS names key "${dup.id}" twice; key ids must be unique`);
  return keys;
}

/** A random key for one process (no PREDICTION_ID_KEYS): ids then join only on the replica that issued them. */
export function randomSigningKey(): SigningKey {
  return { id: `r${randomBytes(4).toString('hex')}`, secret: randomBytes(32) };
}

export class PredictionIdSigner {
  private readonly byId: Map<string, SigningKey>;
  private readonly signing: SigningKey;
  private readonly signingMac: FixedHmac;
  private readonly processNonce = randomBytes(4).readUInt32BE(0);
  private counter = 0;

  constructor(keys: SigningKey[]) {
    if (keys.length === 0) throw new Error('PredictionIdSigner needs at least one key');
    this.signing = keys[0];
    this.signingMac = new FixedHmac(keys[0].secret, Buffer.from(`${keys[0].id}.`), PAYLOAD_BYTES);
    this.byId = new Map(keys.map((k) => [k.id, k]));
  }

  get keyIds(): string[] {
    return [...this.byId.keys()];
  }

  /** A signed id for one served prediction; `threshold` null for regression. */
  issue(version: number, value: number, threshold: number | null, now = Date.now()): string {
    const b = Buffer.allocUnsafe(ID_BYTES);
    b[0] = FORMAT;
    b[1] = threshold === null ? 0 : 1;
    b.writeUInt32BE(version >>> 0, 2);
    b.writeUIntBE(Math.max(0, Math.min(now, 2 ** 48 - 1)), 6, 6);
    b.writeUInt32BE(this.processNonce, 12);
    b.writeUInt32BE((this.counter = (this.counter + 1) >>> 0), 16);
    b.writeDoubleBE(value, 20);
    b.writeDoubleBE(threshold ?? 0, 28);
    this.signingMac.tagInto(b, 0, b, PAYLOAD_BYTES, TAG_BYTES);
    return this.signing.id + '.' + b.toString('base64url');
  }

  verify(id: string): Verified {
    const dot = id.indexOf('.');
    const keyId = dot < 0 ? '' : id.slice(0, dot);
    const body = id.slice(dot + 1);
    if (dot < 0 || !KEY_ID.test(keyId) || !BODY.test(body))
      return {
        ok: false,
        reason: 'malformed',
        message: `prediction ${id} is unknown: it is not an id this service issues (expected "<key id>.<${BODY_CHARS} base64url characters>")`,
      };
    const key = this.byId.get(keyId);
    if (!key)
      return {
        ok: false,
        reason: 'unknown_key',
        message: `prediction ${id} was signed with key "${keyId}", which this replica does not hold: the key was retired from PREDICTION_ID_KEYS, the id comes from another deployment, or PREDICTION_ID_KEYS is unset (each replica then signs with its own random key)`,
      };
    const b = Buffer.from(body, 'base64url');
    const tag = createHmac('sha256', key.secret)
      .update(`${keyId}.`)
      .update(b.subarray(0, PAYLOAD_BYTES))
      .digest()
      .subarray(0, TAG_BYTES);
    // A re-encoding with other padding bits decodes to the same bytes: the canonical form is the only one accepted.
    if (b.length !== ID_BYTES || !timingSafeEqual(tag, b.subarray(PAYLOAD_BYTES)) || b.toString('base64url') !== body)
      return {
        ok: false,
        reason: 'bad_signature',
        message: `prediction ${id} does not verify: its signature does not match its content (altered or forged); send the id exactly as the prediction answer returned it`,
      };
    if (b[0] !== FORMAT)
      return {
        ok: false,
        reason: 'malformed',
        message: `prediction ${id} has id format ${b[0]}, this server reads ${FORMAT}`,
      };
    return {
      ok: true,
      keyId,
      claims: {
        version: b.readUInt32BE(2),
        issuedAt: b.readUIntBE(6, 6),
        nonce: b.toString('base64', 6, 20),
        value: b.readDoubleBE(20),
        threshold: b[1] & 1 ? b.readDoubleBE(28) : null,
      },
    };
  }
}

/**
 * The signer for this process: the configured keys (PREDICTION_ID_KEYS), or a random key with one
 * warning when there are none (fine for one process: `npm start`, a laptop; wrong for replicas).
 */
export function createSigner(
  keys: SigningKey[] | null,
  warn: (message: string, fields: Record<string, unknown>) => void,
): PredictionIdSigner {
  if (keys) return new PredictionIdSigner(keys);
  const key = randomSigningKey();
  warn('PREDICTION_ID_KEYS is not set: prediction ids are signed with a random key of this process', {
    key_id: key.id,
    effect: 'POST /feedback joins only the ids this replica issued; other replicas answer 404',
    fix: 'set PREDICTION_ID_KEYS=<key id>:<secret> (the same on every replica, from a Secret; openssl rand -base64 32)',
  });
  return new PredictionIdSigner([key]);
}

/** PREDICTION_ID_KEYS for a random key (what a WORKERS>1 primary hands its workers so they share it). */
export function formatSigningKey(key: SigningKey): string {
  return `${key.id}:${key.secret.toString('base64url')}`;
}
