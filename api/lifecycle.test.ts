import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { RECORD, post, registryWithVersions } from '../harness/testing/api/support.ts';
import { freePort } from '../core/platform/free-port.ts';

test('SIGTERM: in-flight requests finish, then the process exits 0 and logs JSON lines', async () => {
  const { url } = await registryWithVersions([1]);
  const port = await freePort();
  // A long coalescing window keeps requests in flight when the signal arrives.
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      REGISTRY_URL: url,
      BATCH_WAIT_MS: '600',
      LOG_FORMAT: 'json',
    },
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
  assert.deepEqual(
    results.map((r) => r.status),
    [200, 200, 200, 200, 200],
  );
  assert.equal(await exited, 0);
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
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

test('params.yaml is read through core/schemas/params.ts: a malformed one stops the API at start, naming the bad key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'api-params-'));
  try {
    const params = parse(await readFile('params.yaml', 'utf8')) as { register: { model_name: string } };
    params.register.model_name = 'Not A Valid Name';
    await writeFile(join(dir, 'params.yaml'), stringify(params));
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./server.ts', import.meta.url))],
      {
        cwd: dir,
        env: { ...process.env, PORT: String(await freePort()), HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const stuck = setTimeout(() => child.kill('SIGKILL'), 30_000); // an API that started anyway fails the test, not hangs it
    const [code] = await once(child, 'exit');
    clearTimeout(stuck);
    assert.equal(code, 1, `the API should refuse to start; stderr: ${stderr}`);
    assert.match(
      stderr,
      /api failed to start: .*params\.yaml has 1 problem\(s\):\\n {2}- register\.model_name: lowercase letters/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
