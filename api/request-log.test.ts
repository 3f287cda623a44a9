import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestSummary } from './middleware/request-summary.ts';
import { memoryLogger } from '../core/platform/log.ts';
import { createLogger } from '../core/platform/log.ts';
import { RECORD, registryWithVersions } from '../harness/testing/api/support.ts';
import { startServer } from './server.ts';
import { loadConfig } from './config.ts';

test('RequestSummary: counts by route and status, percentiles within 10 %, nothing when idle', () => {
  let now = 0;
  const log = memoryLogger();
  const s = new RequestSummary(log, () => now);
  for (let i = 1; i <= 100; i++) s.add('/predict', 200, i); // 1..100 ms
  s.add('/predict', 400, 0.5);
  s.add('/readyz', 200, 0.2);
  now = 10_000;
  s.flush();
  const line = JSON.parse(log.lines[0]);
  assert.equal(line.msg, 'requests');
  assert.equal(line.window_s, 10);
  assert.equal(line.requests, 102);
  assert.deepEqual(line.routes['/predict'].status, { 200: 100, 400: 1 });
  const p = line.routes['/predict'];
  assert.ok(p.p50_ms >= 50 && p.p50_ms <= 55, `p50 ${p.p50_ms}`);
  assert.ok(p.p99_ms >= 99 && p.p99_ms <= 109, `p99 ${p.p99_ms}`);
  assert.ok(p.max_ms >= 100 && p.max_ms <= 110, `max ${p.max_ms}`);
  s.flush();
  assert.equal(log.lines.length, 1, 'an idle interval writes nothing');
});

/** Bytes the API logs at LOG_LEVEL=info (its default) for `n` predictions, startup lines excluded. */
async function infoBytesFor(n: number): Promise<{ bytes: number; lines: number }> {
  const { url, root } = await registryWithVersions([1]);
  let bytes = 0;
  let lines = 0;
  let counting = false;
  const log = createLogger({
    format: 'json',
    level: 'info',
    write: (l) => {
      if (!counting) return;
      bytes += Buffer.byteLength(l) + 1;
      lines++;
    },
  });
  const config = loadConfig({ PORT: '0', REGISTRY_URL: url, POLL_INTERVAL_MS: '100000' });
  const srv = await startServer(config, { log, repoRoot: root });
  const body = JSON.stringify(RECORD);
  try {
    counting = true;
    for (let sent = 0; sent < n; sent += 50)
      await Promise.all(
        Array.from({ length: 50 }, () =>
          fetch(`${srv.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
            (r) => r.arrayBuffer(),
          ),
        ),
      );
  } finally {
    await srv.close(); // the last interval's summary is written here
    counting = false;
  }
  return { bytes, lines };
}

test('the default (info) request log writes a summary, not a line per request: < 1 byte per request', async () => {
  const n = 2000;
  const { bytes, lines } = await infoBytesFor(n);
  assert.ok(lines >= 1, 'the summary line is written');
  assert.ok(bytes / n < 1, `${bytes} bytes in ${lines} lines for ${n} requests`);
});
