/**
 * `npm run cluster:rehearse`: N API replicas behind a real load balancer and a real Prometheus,
 * real May traffic with late labels, a promotion and a SIGKILL mid-run; prints the figures and
 * exits 1 when a check fails (see harness/cluster/README.md).
 */
import { defineCli, numberOption, UsageError, type CliValues } from '../../core/platform/cli.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { BALANCERS, type Balancer } from './config.ts';
import { runCluster } from './run.ts';
import { renderTable } from './summary.ts';

const USAGE = `usage: npm run cluster:rehearse -- [--replicas 3] [--lb haproxy|nginx] [--requests 2400] [--rate 100]
       [--seed 1] [--from 2001-05-01] [--converge-bound-ms 30000] [--repeat-share 0.2] [--json]
  trains two small models on January flights into a temporary registry, starts --replicas API
  processes (api/server.ts, same registry, same PREDICTION_ID_KEYS, one redis-server as their
  FEEDBACK_DEDUPE_URL) behind --lb on 127.0.0.1 and a Prometheus scraping each with
  infra/monitoring/prometheus/rules.yml; sends --requests May flights at --rate per second through
  the balancer, posts each real delay later in random order (--repeat-share of them a second time,
  to another live replica), promotes v2 at 25 % and SIGKILLs the last replica at 45 %; prints the
  figures (a table, or with --json one JSON object on stdout), progress on stderr
exit: 0 every check passed, 1 one failed (named in the output) or the run failed, 2 usage error`;

const OPTIONS = {
  replicas: { type: 'string', default: '3' },
  lb: { type: 'string', default: 'haproxy' },
  requests: { type: 'string', default: '2400' },
  rate: { type: 'string', default: '100' },
  seed: { type: 'string', default: '1' },
  from: { type: 'string', default: '2001-05-01' },
  'converge-bound-ms': { type: 'string', default: '30000' },
  'repeat-share': { type: 'string', default: '0.2' },
  json: { type: 'boolean', default: false },
} as const;

async function main(
  values: CliValues<typeof OPTIONS>,
  io: { stdout: (t: string) => void; stderr: (t: string) => void },
) {
  if (!BALANCERS.includes(values.lb as Balancer))
    throw new UsageError(`--lb ${values.lb}: use ${BALANCERS.join(' or ')}`);
  const replicas = numberOption(values.replicas, 'replicas', { integer: true, min: 2 });
  const result = await runCluster({
    replicas,
    lb: values.lb as Balancer,
    requests: numberOption(values.requests, 'requests', { integer: true, min: 50 }),
    rate: numberOption(values.rate, 'rate', { positive: true }),
    seed: numberOption(values.seed, 'seed', { integer: true, min: 0 }),
    from: values.from,
    convergeBoundMs: numberOption(values['converge-bound-ms'], 'converge-bound-ms', { integer: true, min: 1 }),
    repeatShare: numberOption(values['repeat-share'], 'repeat-share', { min: 0, max: 1 }),
    say: (m) => io.stderr(`[cluster] ${m}\n`),
  });
  if (values.json) io.stdout(JSON.stringify(result.summary) + '\n');
  else io.stdout(renderTable(result.verdict, result.checks, result.extra) + '\n');
  return result.checks.every((c) => c.ok) ? 0 : 1;
}

if (isMain(import.meta.url))
  await defineCli(
    // Keep-alive sockets to the balancer (undici's pool) would hold the process open after the run.
    { name: 'cluster:rehearse', usage: USAGE, options: OPTIONS, forceExit: true },
    ({ values }, io) => main(values, io),
  ).main();
