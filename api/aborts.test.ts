import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';
import { hangUp } from '../harness/adversarial/api/hangup.ts';
import { waitFor } from '../harness/testing/lifecycle.ts';

const count = (text: string, status: string) =>
  [
    ...text.matchAll(
      new RegExp(`^http_requests_total\\{route="/predict",method="POST",status="${status}"\\} (\\d+)`, 'gm'),
    ),
  ].reduce((a, m) => a + Number(m[1]), 0);

test('clients that hang up are counted as 499 and logged at debug, never as 5xx errors', async () => {
  const { url, root } = await registryWithVersions([1]);
  // A coalescing window keeps complete requests waiting long enough for their client to leave.
  const srv = await startTestServer(url, root, { BATCH_WAIT_MS: '1500' });
  try {
    await Promise.all([
      ...Array.from({ length: 40 }, () =>
        hangUp(srv.url, { body: JSON.stringify(RECORD), partial: true, afterMs: 400 }),
      ), // slow body, then gone
      ...Array.from({ length: 20 }, () =>
        hangUp(srv.url, { body: JSON.stringify(RECORD), partial: false, afterMs: 400 }),
      ), // gone while the server works
    ]);
    // The hang-ups are counted as their requests end (after the coalescing window).
    let text = '';
    const counted = () =>
      text
        .split('\n')
        .filter((l) => l.startsWith('http_requests_total'))
        .join('\n');
    await waitFor(
      '60 requests counted as 499',
      async () => {
        text = await (await fetch(`${srv.url}/metrics`)).text();
        return count(text, '499') >= 60 || undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100, output: counted },
    );
    assert.equal(count(text, '499'), 60, counted());
    assert.equal(count(text, '500'), 0);
    assert.equal(count(text, '200'), 0);
    const lines = srv.log.lines.map((l) => JSON.parse(l) as { level: string; msg: string; status?: number });
    assert.deepEqual(
      lines.filter((l) => l.level === 'error'),
      [],
      'no error-level log line',
    );
    assert.equal(lines.filter((l) => l.level === 'debug' && l.status === 499).length, 60);
    assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
  } finally {
    await srv.close();
  }
});
