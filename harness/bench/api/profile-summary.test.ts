import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  categoryOf,
  diffMarkdown,
  perRequestDiff,
  profileMarkdown,
  summarizeProfile,
  type CpuProfile,
} from './profile-summary.ts';

const F = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
const API = 'file:///repo/api';

/** root → koa handler → predict route → (hash native via node:internal/crypto) | rawScores; plus idle, GC, JSON.parse. */
const profile: CpuProfile = {
  startTime: 1_000,
  nodes: [
    { id: 1, callFrame: F('(root)'), children: [2, 7, 8] },
    { id: 2, callFrame: F('dispatch', 'file:///repo/node_modules/koa-compose/index.js'), children: [3, 9] },
    { id: 3, callFrame: F('predictOne', `${API}/routes/predict.ts`), children: [4, 6] },
    { id: 4, callFrame: F('issue', `${API}/prediction-id.ts`), children: [5] },
    { id: 5, callFrame: F('hash', 'node:internal/crypto/hash'), children: [10] },
    { id: 10, callFrame: F('oneShotDigest') },
    { id: 6, callFrame: F('rawScores', 'file:///repo/core/model/trees.ts') },
    { id: 7, callFrame: F('(idle)') },
    { id: 8, callFrame: F('(garbage collector)') },
    { id: 9, callFrame: F('parse') },
  ],
  // Sample i stands for timeDeltas[i] µs; the first (at 1,100 µs) falls before the window below.
  samples: [6, 6, 6, 10, 10, 7, 7, 8, 9, 3],
  timeDeltas: [100, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

test('CPU profile: busy time by concern (natives charged to their caller), top functions, load window only', () => {
  const s = summarizeProfile(profile, { window: { fromUs: 2_000, toUs: 20_000 } });
  assert.equal(s.idle_ms, 2);
  assert.equal(
    s.busy_ms,
    7,
    'two rawScores samples, two hash, GC, JSON.parse, predictOne; the one before the window left out',
  );
  const share = Object.fromEntries(s.categories.map((c) => [c.category, c.share]));
  assert.deepEqual(share, {
    'request handling (koa, middleware, routes, batcher)': 14.3,
    'body reading & JSON': 14.3,
    'forward pass': 28.6,
    'prediction ids & feedback': 28.6,
    'garbage collection': 14.3,
  });
  assert.deepEqual(s.top[0], { function: 'rawScores', where: 'core/model/trees.ts:1', self_ms: 2, share: 28.6 });
  assert.equal(s.top[1].function, 'oneShotDigest');
  assert.equal(summarizeProfile(profile).busy_ms, 7.1, 'no window: every sample');
  assert.throws(() => summarizeProfile(profile, { window: { fromUs: 0, toUs: 500 } }), /no sample in the window/);
  assert.match(profileMarkdown(s, s), /\| forward pass \| 28\.6 \| 28\.6 \|/);
});

test('frames are placed by their source; node core is HTTP except hashing and buffers', () => {
  assert.equal(categoryOf(F('writev', 'node:internal/stream_base_commons')), 'HTTP & sockets (node core)');
  assert.equal(categoryOf(F('hash', 'node:internal/crypto/hash')), null);
  assert.equal(
    categoryOf(F('observe', 'file:///r/node_modules/prom-client/lib/histogram.js')),
    'metrics (prom-client)',
  );
  assert.equal(categoryOf(F('add', 'file:///r/api/drift-window.ts')), 'drift / monitoring');
  assert.equal(categoryOf(F('compress', 'file:///r/api/fixed-hmac.ts')), 'prediction ids & feedback');
  assert.equal(categoryOf(F('recordsToTable', 'file:///r/core/data/records.ts')), 'validation (records → table)');
  assert.equal(categoryOf(F('encodeFeatures', 'file:///r/core/model/features.ts')), 'feature encoding');
  assert.equal(categoryOf(F('(program)')), null);
});

test('several load windows count together; two runs compared per request, not as shares', () => {
  // Samples at 1,100 · 2,100 · … · 9,100 µs: the windows take the 3rd–4th (rawScores, hash) and the 9th (JSON.parse).
  const two = summarizeProfile(profile, {
    windows: [
      { fromUs: 3_000, toUs: 4_500 },
      { fromUs: 9_000, toUs: 9_500 },
    ],
    topN: Infinity,
  });
  assert.equal(two.busy_ms, 3);
  const all = summarizeProfile(profile, { window: { fromUs: 2_000, toUs: 20_000 }, topN: Infinity });
  // `all` served 10 requests, `two` 2: per request 0.7 ms against 1.5 ms of busy time.
  const d = perRequestDiff({ summary: all, requests: 10 }, { summary: two, requests: 2 });
  assert.deepEqual(d.busy_us, { a: 700, b: 1500, delta: 800 });
  // Largest change first, whichever its sign: JSON.parse went from 100 to 500 µs per request.
  assert.deepEqual(d.functions[0], { function: 'parse', where: '(native)', a_us: 100, b_us: 500, delta_us: 400 });
  assert.deepEqual(
    d.functions.slice(1).map((f) => [f.function, f.delta_us]),
    [
      ['rawScores', 300],
      ['oneShotDigest', 300],
      ['(garbage collector)', -100],
      ['predictOne', -100],
    ],
  );
  const fwd = d.categories.find((c) => c.category === 'forward pass');
  assert.deepEqual(fwd, { category: 'forward pass', a_us: 200, b_us: 500, delta_us: 300 });
  assert.match(diffMarkdown(d, ['before', 'after']), /\| busy CPU \(sampled\) \| 700 \| 1500 \| 800 \|/);
});
