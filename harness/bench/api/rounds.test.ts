import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balancedRounds, planTargets, sliceOrder, type RoundPlan, type Target, type TargetLabel } from './rounds.ts';
import { wrkScript } from './wrk.ts';

const plan: RoundPlan = {
  path: '/predict',
  body: '{"distance":733,"origin":"ATL"}',
  connections: 32,
  auth: { authorization: 'Bearer 0123456789abcdef' },
  urls: {
    real: 'http://127.0.0.1:1001',
    trivial: 'http://127.0.0.1:1002',
    auth: 'http://127.0.0.1:1003',
    baseline: 'http://127.0.0.1:1004',
    workers: 'http://127.0.0.1:1005',
  },
};

const byLabel = (targets: Target[]) => new Map(targets.map((t) => [t.label, t] as [TargetLabel, Target]));
/** Everything a generator sends but the address: what wrk's script says, and autocannon's options. */
const requestOf = (t: Target) => {
  const { url: _url, ...rest } = t.load;
  return { wrk: wrkScript(t.load), autocannon: rest };
};

test('each ratio compares two servers sent the same request bytes: the auth rounds and their trivial reference carry the same token header', () => {
  const t = byLabel(planTargets(plan));
  assert.deepEqual([...t.keys()], ['real', 'trivial', 'auth', 'trivial-auth', 'baseline', 'workers']);
  for (const [measured, reference] of [
    ['real', 'trivial'],
    ['auth', 'trivial-auth'],
    ['workers', 'trivial'],
  ] as const)
    assert.deepEqual(requestOf(t.get(measured)!), requestOf(t.get(reference)!), `${measured} vs ${reference}`);
  assert.match(requestOf(t.get('trivial-auth')!).wrk, /wrk\.headers\["authorization"\] = "Bearer 0123456789abcdef"/);
  // The no-token comparison stays as it was: neither side sends the header.
  for (const label of ['real', 'trivial', 'workers'] as const)
    assert.doesNotMatch(requestOf(t.get(label)!).wrk, /authorization/, label);
  assert.deepEqual(t.get('baseline')!.load.headers, plan.auth, 'the baseline API runs with API_TOKENS');
});

test('every target is loaded at its own server; the trivial server takes both of its rounds', () => {
  const t = byLabel(planTargets(plan));
  assert.equal(t.get('trivial')!.load.url, plan.urls.trivial);
  assert.equal(t.get('trivial-auth')!.load.url, plan.urls.trivial);
  assert.equal(t.get('auth')!.load.url, plan.urls.auth);
  assert.equal(t.get('real')!.load.url, plan.urls.real);
  const without = planTargets({ ...plan, urls: { ...plan.urls, baseline: null, workers: undefined } });
  assert.deepEqual(
    without.map((x) => x.label),
    ['real', 'trivial', 'auth', 'trivial-auth'],
  );
});

test('slice order: every target in every position once, and after every other target equally often', () => {
  for (const n of [2, 3, 4, 5, 6]) {
    const rows = balancedRounds(n);
    const orders = Array.from({ length: rows }, (_, r) => sliceOrder(n, r));
    for (const o of orders) assert.deepEqual([...o].sort(), [...Array(n).keys()], `n=${n}: a permutation`);
    for (let pos = 0; pos < n; pos++) {
      const at = orders.map((o) => o[pos]);
      const times = new Set([...Array(n).keys()].map((t) => at.filter((x) => x === t).length));
      assert.equal(times.size, 1, `n=${n}: position ${pos} held by every target alike`);
    }
    const follows = new Map<string, number>();
    for (const o of orders)
      for (let i = 1; i < n; i++) follows.set(`${o[i - 1]}>${o[i]}`, (follows.get(`${o[i - 1]}>${o[i]}`) ?? 0) + 1);
    assert.equal(follows.size, n * (n - 1), `n=${n}: every ordered pair of neighbours occurs`);
    assert.equal(new Set(follows.values()).size, 1, `n=${n}: each equally often`);
  }
  assert.deepEqual(sliceOrder(4, 0), [0, 3, 1, 2]);
  assert.deepEqual(sliceOrder(4, 5), sliceOrder(4, 1), 'the square repeats');
});
