/**
 * The one piece of state the replicas share for feedback: which prediction ids have had their
 * label counted. Signed ids let any replica join a label with no store (api/prediction-id.ts), but
 * refusing a repeat that lands on another replica (or another worker of the pod) needs to know that
 * someone counted it. The first replica to claim an id wins, atomically, in Redis:
 * `SET feedback:<key id>.<nonce> <token> NX PX <ms until the id expires + clock skew>` — so the
 * store holds at most the ids labelled in the last 24 h, each key a few dozen bytes, and forgets
 * them by itself.
 *
 * When the store cannot answer (down, restarting, slower than the timeout) the claim is
 * "unavailable" and POST /feedback answers 503 with Retry-After: counting it anyway could count a
 * repeat twice, refusing it as a repeat would lose a label; the client's retry decides once the
 * store is back. A claim that did land although its answer came too late (or never) is released
 * (deleted only if it still holds this claim's token) as soon as the store answers again, so the
 * retry can claim it. Predictions never touch the store: /readyz does not depend on it.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../core/platform/log.ts';

export type ClaimOutcome = 'new' | 'repeat' | 'unavailable';

export interface Claim {
  key: string;
  /** How long the claim must be kept: until the id can no longer be labelled. */
  ttlMs: number;
}

/**
 * The `reason` label of feedback_dedupe_errors_total: a claim refused while disconnected, one not
 * answered in time, one the store answered with an error, or the connection failing.
 */
export type DedupeError = 'disconnected' | 'timeout' | 'error' | 'connection';

export interface DedupeStore {
  /** Where it is, for logs (no credentials). */
  readonly where: string;
  /** One outcome per claim, in order; never rejects. */
  claim(claims: Claim[]): Promise<ClaimOutcome[]>;
  close(): Promise<void>;
}

/** Clocks of replicas and store may differ by this much; a claim outlives its id by as long. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The store key of a verified id: its key id and nonce (unique per issued prediction). */
export const claimKey = (keyId: string, nonce: string) => `feedback:${keyId}.${nonce}`;

/** Deletes the key only if it still holds this claim's token (another replica's claim is left alone). */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/** Claims whose fate is unknown, waiting for the store to come back; beyond this the oldest are dropped. */
const MAX_PENDING_RELEASES = 10_000;

export interface RedisDedupeOptions {
  /** A claim not answered within this is "unavailable" (FEEDBACK_DEDUPE_TIMEOUT_MS). */
  timeoutMs: number;
  /** Every undecided claim batch and every connection error (for the metric and a throttled log). */
  onError: (reason: DedupeError, message: string) => void;
  /** The connection is (again) ready. */
  onReady?: () => void;
}

/** `redis://[:password@]host:port[/db]` without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * Resolves with the promise's value, or with an error once `ms` have passed. A reply that reached
 * the socket while the event loop was busy (a long model call) is still taken: the decision waits
 * for the poll phase after the timer, where that reply is read.
 */
type Settled<T> = { ok: true; value: T } | { ok: false; error: string; timedOut: boolean };

function within<T>(p: Promise<T>, ms: number): Promise<Settled<T>> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Settled<T>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(
      () => setImmediate(() => finish({ ok: false, error: `no answer within ${ms} ms`, timedOut: true })),
      ms,
    );
    p.then(
      (value) => finish({ ok: true, value }),
      (err: unknown) => finish({ ok: false, error: (err as Error).message, timedOut: false }),
    );
  });
}

export class RedisDedupe implements DedupeStore {
  readonly where: string;
  private readonly redis: Redis;
  /** Makes this process's claim tokens unique, so a release never deletes another process's claim. */
  private readonly processToken = randomBytes(6).toString('base64url');
  private counter = 0;
  private readonly releases = new Map<string, string>();
  private closed = false;

  constructor(
    url: string,
    private readonly o: RedisDedupeOptions,
  ) {
    this.where = redactUrl(url);
    this.redis = new Redis(url, {
      connectTimeout: 1000,
      // A store that stops answering (hung, partitioned) is dropped and reconnected.
      socketTimeout: 2000,
      // Fail at once while disconnected rather than queue: the client is told to retry.
      enableOfflineQueue: false,
      // Never re-send a claim after a reconnect: its first copy may have landed.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    });
    this.redis.on('error', (err: Error) => this.o.onError('connection', err.message));
    this.redis.on('ready', () => {
      this.flushReleases();
      this.o.onReady?.();
    });
  }

  async claim(claims: Claim[]): Promise<ClaimOutcome[]> {
    if (claims.length === 0) return [];
    const unavailable = (reason: DedupeError, message: string): ClaimOutcome[] => {
      this.o.onError(reason, message);
      return claims.map(() => 'unavailable');
    };
    if (this.redis.status !== 'ready') return unavailable('disconnected', `the store is ${this.redis.status}`);
    const tokens = claims.map(() => `${this.processToken}.${(this.counter++).toString(36)}`);
    const pipeline = this.redis.pipeline();
    claims.forEach((c, i) => pipeline.set(c.key, tokens[i], 'PX', Math.max(1, Math.ceil(c.ttlMs)), 'NX'));
    const sent = pipeline.exec();
    const answer = await within(sent, this.o.timeoutMs);
    if (answer.ok && answer.value) {
      const failed = answer.value.find(([err]) => err);
      if (failed) this.o.onError('error', (failed[0] as Error).message);
      // A command the store refused (e.g. out of memory) claimed nothing.
      return answer.value.map(([err, reply]) => (err ? 'unavailable' : reply === 'OK' ? 'new' : 'repeat'));
    }
    // Undecided: whatever landed must not stay claimed, or the client's retry would be refused.
    sent.then(
      (results) =>
        results?.forEach(([err, reply], i) => {
          if (!err && reply === 'OK') this.release(claims[i].key, tokens[i]);
        }),
      () => claims.forEach((c, i) => this.release(c.key, tokens[i])),
    );
    return answer.ok
      ? unavailable('error', 'no reply')
      : unavailable(answer.timedOut ? 'timeout' : 'error', answer.error);
  }

  private release(key: string, token: string): void {
    this.releases.set(key, token);
    if (this.releases.size > MAX_PENDING_RELEASES) this.releases.delete(this.releases.keys().next().value!);
    if (this.redis.status === 'ready') this.flushReleases();
  }

  private flushReleases(): void {
    for (const [key, token] of this.releases) {
      this.releases.delete(key);
      this.redis.eval(RELEASE, 1, key, token).catch(() => {
        if (!this.closed) this.releases.set(key, token);
      });
    }
  }

  /** Claims waiting to be released (for tests and GET /feedback). */
  get pendingReleases(): number {
    return this.releases.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    await within(this.redis.quit(), 500);
    this.redis.disconnect();
  }
}

/** How often a failing store is logged (each failure is counted in feedback_dedupe_errors_total). */
const LOG_EVERY_MS = 30_000;

/**
 * The store this process claims ids in (FEEDBACK_DEDUPE_URL), or null — said once at start, since
 * a repeat that reaches another replica (or another worker) is then counted again.
 */
export function openDedupeStore(
  config: { feedbackDedupeUrl: string | null; feedbackDedupeTimeoutMs: number },
  log: Pick<Logger, 'info' | 'warn'>,
  errors: { inc(labels: { reason: DedupeError }): void },
): DedupeStore | null {
  if (!config.feedbackDedupeUrl) {
    log.info('repeated feedback is refused per replica only: FEEDBACK_DEDUPE_URL is not set', {
      effect: 'a label posted twice that reaches two replicas (or two workers) is counted twice',
      fix: 'set FEEDBACK_DEDUPE_URL=redis://<host>:6379 on every replica (the production overlay does)',
    });
    return null;
  }
  let lastLog = 0;
  let failing = false;
  const store: RedisDedupe = new RedisDedupe(config.feedbackDedupeUrl, {
    timeoutMs: config.feedbackDedupeTimeoutMs,
    onError: (reason, message) => {
      errors.inc({ reason });
      failing = true;
      const now = Date.now();
      if (now - lastLog < LOG_EVERY_MS) return;
      lastLog = now;
      log.warn('feedback dedupe store failing: POST /feedback answers 503 + Retry-After until it is back', {
        store: store.where,
        reason,
        error: message,
        predictions: 'unaffected',
      });
    },
    onReady: () => {
      log.info(failing ? 'feedback dedupe store back' : 'feedback dedupe store connected', { store: store.where });
      failing = false;
      lastLog = 0;
    },
  });
  return store;
}
