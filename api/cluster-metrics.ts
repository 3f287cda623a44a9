/**
 * /metrics under WORKERS>1. node:cluster hands each connection to one worker, so a scrape sees one
 * worker's counters, a different one each time: rate() reads the jumps as resets and the fleet
 * counters (api/fleet-metrics.ts) count a fraction of the pod. Here the worker that gets the
 * scrape asks the primary, which collects every worker's registry over IPC (prom-client's
 * AggregatorRegistry) and answers with their sum: counters and histograms add up to what one
 * process would have counted, so the fleet recording rules work on a pod of workers exactly as on
 * one process. Gauges say how they combine (`aggregator` in api/prometheus.ts).
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { HttpError } from './errors.ts';

const ASK = 'gitops-ml:scrape';
const ANSWER = 'gitops-ml:scrape-answer';
/** prom-client gives up on a silent worker after 5 s; the asking worker waits a little longer. */
const WAIT_MS = 6_000;

interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

/** In the primary: answer the workers' scrape requests with the sum of all workers' metrics. */
export function serveClusterScrapes(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: number }) => {
    if (message?.type !== ASK) return;
    const reply = (a: Omit<Answer, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id: message.id, ...a });
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (err: Error) => reply({ error: err.message }),
    );
  });
}

/** In a worker: offer `registry` to the primary, and return the scrape that asks for the pod's sum. */
export function workerScrape(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs the listener that answers the primary's collection
  const pending = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();
  let next = 0;
  process.on('message', (m: Partial<Answer>) => {
    if (m?.type !== ANSWER || m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (!p) return;
    if (m.text !== undefined) p.resolve(m.text);
    else p.reject(new HttpError(503, 'metrics_unavailable', `the workers' metrics could not be collected: ${m.error}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(
          new HttpError(503, 'metrics_unavailable', `the primary process did not answer within ${WAIT_MS} ms; retry`),
        );
      }, WAIT_MS);
      pending.set(id, {
        resolve: (t) => (clearTimeout(timer), resolve(t)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      process.send!({ type: ASK, id });
    });
}
