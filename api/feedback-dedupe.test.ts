/**
 * The shared dedupe store with a real redis-server started here: two API replicas claim labels in
 * one Redis, so a repeat that reaches the other replica is refused; a store that dies answers 503
 * + Retry-After (predictions unaffected) and the label joins once it is back; a store that hangs
 * times out and the claim that landed late is released so the retry can join.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RECORD, post, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';
import { waitFor } from '../harness/testing/lifecycle.ts';
import { redisMissing, startRedis, type TestRedis } from '../harness/testing/redis.ts';
import { RedisDedupe, redactUrl, type DedupeError } from './feedback-dedupe.ts';
import { loadConfig } from './config.ts';

const skip = redisMissing();
const KEYS = 'k1:shared-secret-0123456789-0123456789';
type Server = Awaited<ReturnType<typeof startTestServer>>;
let redis: TestRedis, a: Server, b: Server;

before(async () => {
  if (skip) return;
  redis = await startRedis();
  const { url, root } = await registryWithVersions([1]);
  const env = { PREDICTION_ID_KEYS: KEYS, FEEDBACK_DEDUPE_URL: redis.url, FEEDBACK_DEDUPE_TIMEOUT_MS: '1000' };
  [a, b] = await Promise.all([startTestServer(url, root, env), startTestServer(url, root, env)]);
});
after(async () => {
  await Promise.all([a, b].map((s) => s?.close()));
  await redis?.stop();
});

const predictId = async (srv: Server) => (await post(`${srv.url}/predict`, RECORD)).json.prediction_id as string;
const label = (srv: Server, prediction_id: string) => post(`${srv.url}/feedback`, { prediction_id, label: 1 });
const sample = async (srv: Server, pattern: RegExp) =>
  Number(pattern.exec(await (await fetch(`${srv.url}/metrics`)).text())?.[1] ?? 0);
const pairs = (srv: Server) => sample(srv, /^model_feedback_pairs_total\{[^}]*\} (\S+)$/m);

test('a repeat that reaches the other replica is refused 409; the fleet counts the label once', { skip }, async () => {
  const id = await predictId(a);
  const before = (await pairs(a)) + (await pairs(b));
  assert.equal((await label(a, id)).status, 200);
  const repeat = await label(b, id);
  assert.equal(repeat.status, 409, JSON.stringify(repeat.json));
  assert.equal(repeat.json.error.code, 'duplicate_feedback');
  assert.equal((await label(a, id)).status, 409, 'and at the first replica (its own memory)');
  assert.equal((await pairs(a)) + (await pairs(b)) - before, 1, 'summed over replicas: one joined pair');
  assert.equal(await sample(b, /^model_feedback_total\{[^}]*outcome="duplicate"\} (\S+)$/m), 1);

  // One batch holding the same new id twice, then the batch again at the other replica.
  const twice = await predictId(b);
  const batch = { feedback: [twice, twice].map((prediction_id) => ({ prediction_id, label: 0 })) };
  const first = await post(`${a.url}/feedback`, batch);
  assert.equal(first.status, 207);
  assert.deepEqual(
    first.json.results.map((r: { status: number }) => r.status),
    [200, 409],
  );
  const again = await post(`${b.url}/feedback`, batch);
  assert.deepEqual(
    again.json.results.map((r: { status: number }) => r.status),
    [409, 409],
  );
  const summary = (await (await fetch(`${a.url}/feedback`)).json()) as { repeats_refused_across: string };
  assert.match(summary.repeats_refused_across, /every replica/);
});

test(
  'the store stopped: 503 + Retry-After, predictions flow, /readyz 200; after a restart the label joins once',
  { skip },
  async () => {
    const id = await predictId(a);
    await redis.stop();
    const refused = await label(b, id);
    assert.equal(refused.status, 503, JSON.stringify(refused.json));
    assert.equal(refused.json.error.code, 'feedback_store_unavailable');
    assert.match(refused.json.error.message, /send it again in 1 s/);
    const raw = await fetch(`${b.url}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prediction_id: id, label: 1 }),
    });
    assert.equal(raw.headers.get('retry-after'), '1');
    await raw.body?.cancel();
    assert.equal((await post(`${a.url}/predict`, RECORD)).status, 200, 'predictions do not need the store');
    assert.equal((await fetch(`${a.url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    const storeErrors = [...metrics.matchAll(/^feedback_dedupe_errors_total\{[^}]*\} (\S+)$/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    assert.ok(storeErrors >= 2, metrics.match(/^feedback_dedupe.*$/gm)?.join('\n'));
    assert.ok((await sample(b, /^model_feedback_total\{[^}]*outcome="retry_later"\} (\S+)$/m)) >= 2);

    await redis.start();
    // The client's retry: 503 until the replica has reconnected (backoff ≤ 2 s), then 200 — never 409 (lost).
    const statuses: number[] = [];
    const joined = await waitFor(
      'the label joining after the store restarted',
      async () => {
        const r = await label(b, id);
        statuses.push(r.status);
        return r.status === 503 ? undefined : r;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    assert.equal(joined.status, 200, `statuses ${statuses.join(',')}`);
    assert.equal(joined.json.model_version, 1);
    await waitFor('replica a reconnected', async () => ((await label(a, id)).status === 409 ? true : undefined), {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  },
);

test(
  'a hung store: the claim times out (503), and the claim that landed late is released for the retry',
  { skip },
  async () => {
    const errors: DedupeError[] = [];
    const store = new RedisDedupe(redis.url, { timeoutMs: 50, onError: (reason) => errors.push(reason) });
    const probe = new Redis(redis.url, { lazyConnect: true });
    try {
      await probe.connect();
      const claim = { key: 'feedback:k1.test-hung', ttlMs: 60_000 };
      const warm = { key: 'feedback:k1.warm', ttlMs: 1000 };
      await waitFor('the store connected', async () => ((await store.claim([warm]))[0] === 'new' ? true : undefined));
      redis.child()!.kill('SIGSTOP');
      const [outcome] = await store.claim([claim]);
      assert.equal(outcome, 'unavailable');
      assert.ok(errors.includes('timeout'), errors.join(','));
      redis.child()!.kill('SIGCONT');
      // The late SET landed; the store deletes it (its own token only) once the reply arrives.
      await waitFor('the late claim released', async () =>
        store.pendingReleases === 0 && (await probe.exists(claim.key)) === 0 ? true : undefined,
      );
      assert.deepEqual(await store.claim([claim, claim]), ['new', 'repeat']);
      const ttl = await probe.pttl(claim.key);
      assert.ok(ttl > 50_000 && ttl <= 60_000, `the claim expires with the id (pttl ${ttl})`);
    } finally {
      redis.child()?.kill('SIGCONT');
      probe.disconnect();
      await store.close();
    }
  },
);

test('FEEDBACK_DEDUPE_URL: a Redis URL or nothing; logs never show its password', () => {
  assert.equal(loadConfig({}).feedbackDedupeUrl, null);
  assert.equal(loadConfig({ FEEDBACK_DEDUPE_URL: 'redis://r:6379' }).feedbackDedupeUrl, 'redis://r:6379');
  assert.throws(() => loadConfig({ FEEDBACK_DEDUPE_URL: 'http://r:6379' }), /must be a Redis URL/);
  assert.throws(() => loadConfig({ FEEDBACK_DEDUPE_URL: 'r:6379' }), /must be a Redis URL/);
  assert.equal(redactUrl('redis://:s3cret@r:6379/0'), 'redis://:***@r:6379/0');
});

test('without FEEDBACK_DEDUPE_URL the API says once at start that repeats are refused per replica only', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root, {});
  try {
    const lines = srv.log.lines.filter((l) => l.includes('refused per replica only'));
    assert.equal(lines.length, 1);
    const summary = (await (await fetch(`${srv.url}/feedback`)).json()) as { repeats_refused_across: string };
    assert.match(summary.repeats_refused_across, /this replica only/);
  } finally {
    await srv.close();
  }
});
