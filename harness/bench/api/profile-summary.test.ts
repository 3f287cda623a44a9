import { test } from 'node:test';
import assert from 'node:assert/strict';
import { categoryOf, profileMarkdown, summarizeProfile, type CpuProfile } from './profile-summary.ts';

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
