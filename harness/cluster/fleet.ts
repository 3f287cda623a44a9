/**
 * The fleet of the cluster run: the API replicas (one registry, one signing key), the load
 * balancer in front of them and Prometheus scraping each, all on 127.0.0.1 ports, started in
 * `group` (so they are stopped with it) and waited for with bounded timeouts.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../core/platform/free-port.ts';
import { waitFor } from '../testing/lifecycle.ts';
import {
  PROMETHEUS_BINARY,
  balancerCommand,
  haproxyConfig,
  nginxConfig,
  prometheusConfig,
  replicaName,
  type Balancer,
  type Replica,
} from './config.ts';
import { DEDUPE_URL_ENV, PREDICTION_ID_KEYS_ENV, SCRAPE_JOB } from './contract.ts';
import { REDIS_ARGS, REDIS_SERVER } from '../testing/redis.ts';
import type { Managed, ProcessGroup } from './processes.ts';
import { prometheusClient } from './prometheus.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER = join(ROOT, 'api/server.ts');
const RULES = join(ROOT, 'infra/monitoring/prometheus/rules.yml');

/** Poll `probe` until it is not undefined; fails after `timeoutMs` naming `what` and quoting `output`. */
export const until = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, output?: () => string) =>
  waitFor(what, probe, { timeoutMs, intervalMs: 200, output });

async function readyz(url: string): Promise<true | undefined> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
  await res.body?.cancel();
  return res.status === 200 ? true : undefined;
}

export interface Fleet {
  replicas: (Replica & { process: Managed })[];
  lbUrl: string;
  promql: ReturnType<typeof prometheusClient>;
}

export async function startFleet(
  group: ProcessGroup,
  o: { dir: string; registryUrl: string; replicas: number; lb: Balancer; requests: number; say: (m: string) => void },
): Promise<Fleet> {
  const { dir } = o;
  // ── the shared feedback dedupe store ──
  const redisPort = await freePort();
  const redis = group.start(
    'redis',
    [REDIS_SERVER, '--port', String(redisPort), '--bind', '127.0.0.1', ...REDIS_ARGS],
    {
      cwd: dir,
    },
  );
  await until(
    `redis-server on 127.0.0.1:${redisPort}`,
    20_000,
    () => Promise.resolve(redis.output().includes('Ready to accept connections') ? true : undefined),
    redis.output,
  );
  o.say(`redis-server on 127.0.0.1:${redisPort} (the replicas' feedback dedupe store)`);
  // ── replicas ──
  const keys = `k1:${randomBytes(24).toString('hex')}`;
  const replicas: (Replica & { process: Managed })[] = [];
  for (let i = 0; i < o.replicas; i++) {
    const port = await freePort();
    const process = group.start(replicaName(i), [globalThis.process.execPath, '--import', 'tsx', SERVER], {
      cwd: ROOT,
      env: {
        HOST: '127.0.0.1',
        PORT: String(port),
        REGISTRY_URL: o.registryUrl,
        [PREDICTION_ID_KEYS_ENV]: keys,
        [DEDUPE_URL_ENV]: `redis://127.0.0.1:${redisPort}`,
        // Generous on a machine whose cores the replicas, the balancer and Prometheus share.
        FEEDBACK_DEDUPE_TIMEOUT_MS: '1000',
        PUBLIC_API: 'on',
        LOG_LEVEL: 'warn',
        POLL_INTERVAL_MS: '500',
        DRIFT_INTERVAL_MS: '1000',
        MONITORING_CACHE_MS: '0',
        WORKERS: '1',
        // Windows that hold the whole run: a fleet figure is then over exactly the run's traffic.
        FEEDBACK_WINDOW: String(Math.max(5000, o.requests)),
        DRIFT_WINDOW: String(Math.max(5000, o.requests)),
      },
    });
    replicas.push({ name: replicaName(i), port, process });
  }
  await Promise.all(
    replicas.map((r) =>
      until(
        `${r.name} ready on 127.0.0.1:${r.port}`,
        120_000,
        () => readyz(`http://127.0.0.1:${r.port}`),
        r.process.output,
      ),
    ),
  );
  o.say(`${o.replicas} replicas ready`);

  // ── load balancer ──
  const lbDir = join(dir, o.lb);
  await mkdir(join(lbDir, 'tmp'), { recursive: true });
  const lbPort = await freePort();
  const lbConfig = join(lbDir, `${o.lb}.cfg`);
  await writeFile(
    lbConfig,
    o.lb === 'haproxy'
      ? haproxyConfig({ port: lbPort, replicas })
      : nginxConfig({ port: lbPort, replicas, dir: lbDir, asRoot: process.getuid?.() === 0 }),
  );
  const lb = group.start(o.lb, balancerCommand(o.lb, lbConfig, lbDir));
  const lbUrl = `http://127.0.0.1:${lbPort}`;
  await until(`${o.lb} answering on ${lbUrl}`, 20_000, () => readyz(lbUrl), lb.output);
  o.say(`${o.lb} on ${lbUrl}`);

  // ── Prometheus ──
  const promDir = join(dir, 'prometheus');
  await mkdir(join(promDir, 'data'), { recursive: true });
  await writeFile(join(promDir, 'prometheus.yml'), prometheusConfig({ replicas, rulesFile: RULES }));
  const promPort = await freePort();
  const prom = group.start(
    'prometheus',
    [
      PROMETHEUS_BINARY,
      `--config.file=${join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { cwd: promDir },
  );
  const promql = prometheusClient(`http://127.0.0.1:${promPort}`);
  await until(
    `Prometheus scraping all ${o.replicas} replicas`,
    30_000,
    async () => ((await promql.scalar(`count(up{job="${SCRAPE_JOB}"} == 1)`)) === o.replicas ? true : undefined),
    prom.output,
  );
  o.say(`Prometheus on 127.0.0.1:${promPort}, every replica up`);
  return { replicas, lbUrl, promql };
}
