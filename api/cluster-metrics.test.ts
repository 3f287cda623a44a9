import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { serveClusterScrapes } from './cluster-metrics.ts';

test('under WORKERS>1 a scrape that reaches any worker answers the sum of all workers (gauges by their aggregator)', async () => {
  serveClusterScrapes();
  cluster.setupPrimary({
    exec: fileURLToPath(new URL('./testdata/cluster-worker.ts', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    silent: true,
  });
  const workers: Worker[] = [3, 5, 11].map((count) => cluster.fork({ COUNT: String(count) }));
  try {
    await Promise.all(workers.map((w) => once(w, 'message')));
    for (const w of workers) {
      const scraped = new Promise<{ text: string }>((resolve) =>
        w.on('message', (m: { type?: string; text: string }) => m.type === 'scraped' && resolve(m)),
      );
      w.send({ type: 'scrape' });
      const m = await scraped;
      assert.match(m.text, /^test_requests_total 19$/m, 'counters add up to what one process would have counted');
      assert.match(m.text, /^test_drift 1\.1$/m, 'a max gauge is the worst worker');
    }
  } finally {
    for (const w of workers) w.kill();
  }
});
