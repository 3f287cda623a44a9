import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { RECORD, post, registryWithVersions } from './test-support.ts';
import { freePort } from '../core/free-port.ts';

test('SIGTERM: in-flight requests finish, then the process exits 0 and logs JSON lines', async () => {
  const { url } = await registryWithVersions([1]);
  const port = await freePort();
  // A long coalescing window keeps requests in flight when the signal arrives.
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REGISTRY_URL: url, BATCH_WAIT_MS: '600', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const inFlight = Array.from({ length: 5 }, () => post(`${base}/predict`, RECORD));
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGTERM');
  const results = await Promise.all(inFlight);
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200]);
  assert.equal(await exited, 0);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  const requests = lines.filter((l) => l.msg === 'request' && l.route === '/predict');
  assert.equal(requests.length, 5);
  for (const r of requests) {
    assert.equal(r.status, 200);
    assert.equal(r.model_version, 1);
    assert.ok(r.request_id && typeof r.duration_ms === 'number');
  }
  assert.ok(lines.some((l) => l.msg === 'stopped'));
  await assert.rejects(fetch(`${base}/healthz`), 'nothing listens after exit');
});
