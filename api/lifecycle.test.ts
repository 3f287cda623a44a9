import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { RECORD, registryWithVersions } from '../harness/testing/api/support.ts';
import { exited, post, stopChild, tempDir, waitFor, watchOutput } from '../harness/testing/lifecycle.ts';
import { freePort } from '../core/platform/free-port.ts';

test('SIGTERM: in-flight requests finish, then the process exits 0 and logs JSON lines', async () => {
  const { url } = await registryWithVersions([1]);
  const port = await freePort();
  // A long coalescing window keeps the requests in flight until the signal has arrived; the
  // monitoring read cache is off so the in-flight gauge is read fresh on every scrape.
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      REGISTRY_URL: url,
      BATCH_WAIT_MS: '2000',
      MONITORING_CACHE_MS: '0',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug', // one line per request (info has one summary line per 10 s)
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = watchOutput(child);
  const exit = exited(child);
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the API to be ready', async () => (await fetch(`${base}/readyz`)).status === 200 || undefined, {
      timeoutMs: 30_000,
      intervalMs: 100,
      output: output.text,
    });
    const inFlight = Array.from({ length: 5 }, () => post(`${base}/predict`, RECORD));
    let answered = false;
    void Promise.all(inFlight).finally(() => (answered = true));
    // Wait for the event itself: the server holds all five requests (the gauge counts the scrape too).
    const seen = await waitFor(
      'the server to hold the 5 requests in flight',
      async () => {
        if (answered) return 'answered';
        const gauge = /^http_requests_in_flight (\d+)$/m.exec(await (await fetch(`${base}/metrics`)).text());
        return Number(gauge?.[1]) >= 5 + 1 ? 'in flight' : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 10, output: output.text },
    );
    assert.equal(seen, 'in flight', 'the requests were answered before the server was seen holding all five');
    child.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal((await exit).code, 0);
    const lines = output
      .text()
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
    const shutdown = lines.findIndex((l) => typeof l.msg === 'string' && l.msg.startsWith('shutting down'));
    assert.ok(shutdown >= 0, 'the shutdown is logged');
    assert.ok(
      lines.every((l, i) => !(l.msg === 'request' && l.route === '/predict') || i > shutdown),
      'every prediction was answered after the shutdown began: they were in flight',
    );
    const summary = lines.find((l) => l.msg === 'requests');
    assert.equal(summary?.routes?.['/predict']?.status?.['200'], 5, 'the last interval is summarised at shutdown');
    assert.ok(lines.some((l) => l.msg === 'stopped'));
    await assert.rejects(fetch(`${base}/healthz`), 'nothing listens after exit');
  } finally {
    await stopChild(child);
  }
});

test('params.yaml is read through core/schemas/params.ts: a malformed one stops the API at start, naming the bad key', async () => {
  const dir = await tempDir('api-params-');
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
  const output = watchOutput(child);
  const stuck = setTimeout(() => child.kill('SIGKILL'), 30_000); // an API that started anyway fails the test, not hangs it
  const { code } = await exited(child);
  clearTimeout(stuck);
  assert.equal(code, 1, `the API should refuse to start; stderr: ${output.stderr()}`);
  assert.match(
    output.stderr(),
    /api failed to start: .*params\.yaml has 1 problem\(s\); fix them all, then run again:\\n {2}- register\.model_name = \\"Not A Valid Name\\": lowercase letters/,
  );
});
