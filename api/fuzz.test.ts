import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import assert from 'node:assert/strict';
import { RECORD, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';
import { seededRandom } from '../core/platform/random.ts';

/** A full collection before each heap reading, so the test needs no `--expose-gc` on the command line. */
function garbageCollector(): () => void {
  const gc = global.gc;
  if (typeof gc === 'function') return () => gc();
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const NASTY: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1e308,
  -1e308,
  5e-324,
  'NaN',
  'Infinity',
  '',
  ' ',
  'ATL',
  'atl',
  'ÅÄÖ',
  '\u0000',
  '😀',
  'x'.repeat(5000),
  [],
  [1],
  {},
  { a: 1 },
  '2001-02-30',
  '2001-01-01',
  99999999999999,
  '1e3',
  '__proto__',
];

function randomValue(r: () => number): unknown {
  const k = r();
  if (k < 0.4) return NASTY[Math.floor(r() * NASTY.length)];
  if (k < 0.6) return (r() - 0.5) * 10 ** Math.floor(r() * 12);
  if (k < 0.8)
    return String.fromCharCode(...Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * 0x2fff)));
  return Object.fromEntries(
    Object.entries(RECORD).map(([f, v]) => [f, r() < 0.7 ? v : NASTY[Math.floor(r() * NASTY.length)]]),
  );
}

function randomRequest(r: () => number): { path: string; body: string; type: string } {
  const k = r();
  const record = () => {
    const rec: Record<string, unknown> = { ...RECORD };
    for (const f of Object.keys(rec)) if (r() < 0.3) rec[f] = randomValue(r);
    if (r() < 0.1) delete rec[Object.keys(rec)[Math.floor(r() * 3)]];
    if (r() < 0.1) rec[r() < 0.5 ? '__proto__' : 'constructor'] = randomValue(r);
    return rec;
  };
  let body: string;
  if (k < 0.45) body = JSON.stringify(record());
  else if (k < 0.75)
    body = JSON.stringify({
      instances: Array.from({ length: Math.floor(r() * 6) }, () => (r() < 0.8 ? record() : randomValue(r))),
    });
  else if (k < 0.85) body = JSON.stringify(randomValue(r));
  else {
    const valid = JSON.stringify(record());
    const cut = Math.floor(r() * valid.length);
    body = valid.slice(0, cut) + String.fromCharCode(Math.floor(r() * 128)) + valid.slice(cut + 1);
  }
  const path =
    k >= 0.45 && k < 0.75 ? '/v1/models/flight-delay:predict' : r() < 0.95 ? '/predict' : '/v1/models/other:predict';
  const type =
    r() < 0.95 ? 'application/json' : ['text/plain', '', 'application/x-www-form-urlencoded'][Math.floor(r() * 3)];
  return { path, body, type };
}

test('fuzz: 10,000 random and malformed requests get no 5xx, the server stays up, memory stays flat', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root, { BODY_LIMIT_BYTES: '65536' });
  const r = seededRandom(20261122); // a failing case can be replayed from its seed
  const statuses = new Map<number, number>();
  const fiveXX: string[] = [];
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const req = randomRequest(r);
      const res = await fetch(srv.url + req.path, {
        method: 'POST',
        headers: req.type ? { 'content-type': req.type } : {},
        body: req.body,
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500 && fiveXX.length < 5) fiveXX.push(`${res.status} ${req.path} ${req.body.slice(0, 200)}`);
    }
  };
  const gc = garbageCollector();
  try {
    await Promise.all(Array.from({ length: 8 }, () => send(500))); // warm-up: 4,000
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    await Promise.all(Array.from({ length: 8 }, () => send(750))); // 6,000 more
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, 10_000);
    assert.deepEqual(fiveXX, [], `5xx answers: ${fiveXX.join('\n')}`);
    assert.ok(
      (statuses.get(200) ?? 0) > 500 && (statuses.get(400) ?? 0) > 2000,
      JSON.stringify(Object.fromEntries(statuses)),
    );
    const growthMb = (heapAfter - heapBefore) / 1e6;
    assert.ok(growthMb < 40, `heap grew ${growthMb.toFixed(1)} MB over 6,000 requests`);
    assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
  } finally {
    await srv.close();
  }
});
