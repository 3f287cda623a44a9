import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RECORD,
  post,
  registerTamperedBundle,
  registryWithVersions,
  startTestServer,
} from '../harness/testing/api/support.ts';
import { waitFor } from '../harness/testing/lifecycle.ts';

test('hot swap under continuous load: zero failures, every answer names a version that was serving then', async () => {
  const { url, root, registry } = await registryWithVersions([1, 2]);
  const srv = await startTestServer(url, root);
  // Timeline of what was served: [version, from, to].
  const served: { version: number; from: number; to: number }[] = [
    { version: 1, from: performance.now(), to: Infinity },
  ];
  const answers: { version: number; start: number; end: number }[] = [];
  let failures = 0;
  let running = true;
  const client = async () => {
    while (running) {
      const start = performance.now();
      const r = await post(`${srv.url}/predict`, RECORD);
      const end = performance.now();
      if (r.status !== 200) failures++;
      else answers.push({ version: r.json.model_version, start, end });
    }
  };
  const clients = Array.from({ length: 8 }, client);
  // Between swaps the load runs until the version in place has given 40 answers to requests sent
  // after it was swapped in (or a request failed, which fails the test below).
  let swappedAt = served[0].from;
  const servedSinceSwap = () => {
    const { version } = served.at(-1)!;
    return waitFor(`40 answers from v${version} since it was swapped in`, () =>
      failures > 0 || answers.filter((a) => a.start >= swappedAt && a.version === version).length >= 40
        ? true
        : undefined,
    );
  };
  try {
    for (let i = 0; i < 6; i++) {
      await servedSinceSwap();
      const next = served.at(-1)!.version === 1 ? 2 : 1;
      await registry.setStage('flight-delay', 'production', next, { source: 'test', reason: `swap ${i}` });
      // The swap happens somewhere inside refresh(): both versions count as serving during it.
      const before = performance.now();
      const result = await srv.manager.refresh();
      const afterSwap = performance.now();
      assert.equal(result.status, 'swapped');
      served.at(-1)!.to = afterSwap;
      served.push({ version: next, from: before, to: Infinity });
      swappedAt = afterSwap;
    }
    await servedSinceSwap();
  } finally {
    running = false;
    await Promise.all(clients);
    await srv.close();
  }
  assert.equal(failures, 0);
  assert.ok(answers.length > 200, `only ${answers.length} answers`);
  const seen = new Set(answers.map((a) => a.version));
  assert.deepEqual([...seen].sort(), [1, 2], 'both versions answered');
  for (const a of answers) {
    const ok = served.some((s) => s.version === a.version && s.from <= a.end && s.to >= a.start);
    assert.ok(ok, `answer v${a.version} during [${a.start}, ${a.end}] matches no serving interval`);
  }
  assert.equal(srv.manager.current, null, 'closing disposes the served model');
});

test('a bundle that fails its golden examples is refused and the current model keeps serving', async () => {
  const { url, root, registry } = await registryWithVersions([1]);
  // Version 2: a good bundle whose recorded golden outputs were tampered with.
  await registerTamperedBundle(registry, root);
  const srv = await startTestServer(url, root);
  try {
    await registry.setStage('flight-delay', 'production', 2, { source: 'test', reason: 'bad one' });
    const r = await srv.manager.refresh();
    assert.equal(r.status, 'refused');
    assert.match(r.detail!, /golden examples differ/);
    const res = await post(`${srv.url}/predict`, RECORD);
    assert.equal(res.status, 200);
    assert.equal(res.json.model_version, 1);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, /model_load_failures_total\{model="flight-delay",reason="golden_mismatch"\} 1/);
    assert.ok(srv.log.lines.some((l) => /refusing flight-delay v2/.test(l)));
    assert.equal((await srv.manager.refresh()).status, 'refused', 'not retried on every poll');
  } finally {
    await srv.close();
  }
});

test('readyz is 503 until a production model exists, then the poll picks it up', async () => {
  const { url, root, registry } = await registryWithVersions([1]);
  await registry.demote('flight-delay', 'production', { source: 'test', reason: 'empty stage' });
  const srv = await startTestServer(url, root);
  try {
    assert.equal((await fetch(`${srv.url}/readyz`)).status, 503);
    assert.equal((await post(`${srv.url}/predict`, RECORD)).status, 503);
    await registry.setStage('flight-delay', 'production', 1, { source: 'test', reason: 'now' });
    await srv.manager.refresh();
    assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);
  } finally {
    await srv.close();
  }
});
