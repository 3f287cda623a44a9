/**
 * `npm run bench:served`: does the API slow down as it serves more predictions? The same fixed
 * load (single-record `POST /predict` over BENCH_CONNECTIONS, BENCH_DURATION_S) runs on the real
 * API and on the trivial Koa server at each checkpoint of predictions served (BENCH_CHECKPOINTS,
 * default 0,200000,500000: past the prediction log's default capacity of 200,000), followed by
 * 200 sequential 100-instance batches. Between checkpoints the API is filled with 100-instance
 * batches. Prints one JSON document on stdout (verdicts from served-growth.ts), progress on stderr;
 * exit code 1 when a target fails. Per-request state that grows with traffic shows up here.
 */
import { envNumber, REAL_API_NAME, runServerBench } from './cli.ts';
import { runLoad } from './load.ts';
import { fetchModelFacts, MODEL_NAME } from './model-info.ts';
import { REAL_API_SCRIPT, TRIVIAL_SERVER_SCRIPT, startServer, type ServerHandle } from './server-process.ts';
import { parseCheckpoints, servedGrowth, type Checkpoint } from './served-growth.ts';

const settings = {
  checkpoints: parseCheckpoints(process.env.BENCH_CHECKPOINTS, [0, 200_000, 500_000]),
  connections: envNumber('BENCH_CONNECTIONS', 32),
  duration_s: envNumber('BENCH_DURATION_S', 5),
  warmup_s: envNumber('BENCH_WARMUP_S', 3),
  batch: { instances: 100, requests: 200 },
};
const BATCH_PATH = `/v1/models/${MODEL_NAME}:predict`;
const progress = (msg: string) => process.stderr.write(`[bench:served] ${msg}\n`);

/** Predictions served so far, from the API's own model_predictions_total counters. */
async function served(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('model_predictions_total{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function main(): Promise<number> {
  const servers: ServerHandle[] = [];
  try {
    const real = await startServer({ name: REAL_API_NAME, script: REAL_API_SCRIPT, env: { WORKERS: '1' } });
    servers.push(real);
    const trivial = await startServer({ name: 'trivial server', script: TRIVIAL_SERVER_SCRIPT });
    servers.push(trivial);
    const facts = await fetchModelFacts(real.url);
    const body = JSON.stringify(facts.record);
    const batchBody = JSON.stringify({
      instances: Array.from({ length: settings.batch.instances }, () => facts.record),
    });
    const single = (url: string, durationS: number) =>
      runLoad({ url, path: '/predict', body, connections: settings.connections, durationS });
    progress(`warm-up ${settings.warmup_s} s on each server`);
    await single(real.url, settings.warmup_s);
    await single(trivial.url, settings.warmup_s);

    const points: Checkpoint[] = [];
    for (const target of settings.checkpoints) {
      const missing = target - (await served(real.url));
      if (missing > 0) {
        progress(`serving ${missing} predictions to reach ${target}`);
        await runLoad({
          url: real.url,
          path: BATCH_PATH,
          body: batchBody,
          connections: 4,
          amount: Math.ceil(missing / settings.batch.instances),
          deadlineS: 600,
        });
      }
      const at = await served(real.url);
      const r = await single(real.url, settings.duration_s);
      const t = await single(trivial.url, settings.duration_s);
      const b = await runLoad({
        url: real.url,
        path: BATCH_PATH,
        body: batchBody,
        connections: 1,
        amount: settings.batch.requests,
        deadlineS: 120,
      });
      points.push({
        served: at,
        real_rps: r.rps,
        trivial_rps: t.rps,
        batch100_p50_ms: b.ok > 0 ? b.latency.p50_ms : null,
      });
      progress(
        `after ${at} predictions: real ${r.rps} rps (p99 ${r.latency.p99_ms} ms), trivial ${t.rps} rps, batch100 p50 ${b.latency.p50_ms} ms`,
      );
    }
    const verdict = servedGrowth(points);
    process.stdout.write(
      JSON.stringify({ benchmark: 'served', settings, model_version: facts.version, ...verdict }, null, 2) + '\n',
    );
    // The JSON names the failed target.
    return verdict.pass ? 0 : 1;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const USAGE = `usage: npm run bench:served
  does the API slow down as it serves more predictions? The same load on the real API and the
  trivial server at each checkpoint of predictions served. Prints one JSON document (verdicts) on
  stdout, progress on stderr
env: BENCH_CHECKPOINTS (0,200000,500000), BENCH_CONNECTIONS (32), BENCH_DURATION_S (5), BENCH_WARMUP_S (3)
exit: 0 every target met, 1 a target failed or the run failed, 2 usage error`;

await runServerBench('bench:served', USAGE, main);
