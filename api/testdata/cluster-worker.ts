/** A cluster worker for api/cluster-metrics.test.ts: its own registry, counted as told, scraped through the primary. */
import { Counter, Gauge, Registry } from 'prom-client';
import { workerScrape } from '../cluster-metrics.ts';

const n = Number(process.env.COUNT);
const registry = new Registry();
new Counter({ name: 'test_requests_total', help: 'requests', registers: [registry] }).inc(n);
new Gauge({ name: 'test_drift', help: 'drift', aggregator: 'max', registers: [registry] }).set(n / 10);
const scrape = workerScrape(registry);
process.on('message', (m: { type?: string }) => {
  if (m?.type === 'scrape') void scrape().then((text) => process.send!({ type: 'scraped', text }));
});
process.send!({ type: 'ready' });
