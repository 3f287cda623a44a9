/**
 * `npm run test:adversarial`: bounded versions of hostile traffic (slow connections, model swaps
 * under load) against a real API process on 127.0.0.1 (and, for kill -9, the pipeline in a
 * temporary project). Progress goes to
 * stderr; stdout gets ONE JSON line with the figures; the exit code is 1 when any figure is out of
 * its bound (listed in `bounds` of the line).
 *
 *   npm run test:adversarial [-- --kill-trials 3 --slow-connections 1000]
 */
import { defineCli, numberOption, type CliValues } from '../../core/platform/cli.ts';
import { RECORD, registryWithVersions } from '../testing/api/support.ts';
import { REAL_API_SCRIPT, startServer } from '../bench/api/server-process.ts';
import { badRequests, sendBadRequests } from './api/bad-requests.ts';
import { cardinalityAttack } from './api/cardinality.ts';
import { hangUp } from './api/hangup.ts';
import { slowloris } from './api/slowloris.ts';
import { keepAliveLoad } from './api/keepalive.ts';
import { swapsUnderLoad } from './swaps.ts';
import { runKillTrials } from './kill-trials.ts';

const USAGE = `usage: npm run test:adversarial -- [--kill-trials 3] [--slow-connections 1000] [--bad-requests 504] [--swaps 10]
  bounded hostile traffic (bad requests, slowloris, hang-ups, model swaps under load, SIGTERM under
  load) against a real API process on 127.0.0.1, and kill -9 trials of the pipeline; progress on
  stderr, ONE JSON line of figures on stdout
exit: 0 every figure within its bound, 1 one is not (named in \`failed\`) or the run failed, 2 usage error`;

const OPTIONS = {
  'kill-trials': { type: 'string', default: '3' },
  'slow-connections': { type: 'string', default: '1000' },
  'bad-requests': { type: 'string', default: '504' },
  swaps: { type: 'string', default: '10' },
} as const;

const say = (m: string) => process.stderr.write(`[adversarial] ${m}\n`);
const ADMIN = 'adversarial-admin-token-0123';
const body = JSON.stringify(RECORD);

async function main(values: CliValues<typeof OPTIONS>): Promise<number> {
  const counts = {
    killTrials: numberOption(values['kill-trials'], 'kill-trials', { integer: true, min: 0 }),
    slowConnections: numberOption(values['slow-connections'], 'slow-connections', { integer: true, min: 0 }),
    badRequests: numberOption(values['bad-requests'], 'bad-requests', { integer: true, min: 0 }),
    swaps: numberOption(values.swaps, 'swaps', { integer: true, min: 0 }),
  };
  const started = performance.now();
  const reg = await registryWithVersions([1, 2]);
  // Served as by default: no API_TOKENS (so bad input reaches validation), an admin token for swaps.
  const server = await startServer({
    name: 'api',
    script: REAL_API_SCRIPT,
    env: { REGISTRY_URL: reg.url, ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '5000' },
  });
  const count5xx = async () =>
    [
      ...(await (await fetch(`${server.url}/metrics`)).text()).matchAll(
        /^http_requests_total\{[^}]*status="5\d\d"\} (\d+)/gm,
      ),
    ].reduce((a, m) => a + Number(m[1]), 0);
  let sigtermStop: Promise<number | null> | undefined;
  try {
    say(`server ${server.url}; ${values['bad-requests']} bad requests on four routes`);
    const bad = await sendBadRequests(server.url, badRequests({ record: RECORD, count: counts.badRequests }));

    say('cardinality: 100,000 unique field names');
    const card = await cardinalityAttack({ url: server.url, record: RECORD, names: 100_000, perRequest: 10_000 });

    say('200 clients that hang up (half mid-body, half while the server works)');
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        hangUp(server.url, { body, partial: i % 2 === 0, afterMs: i % 2 === 0 ? 30 : 1 }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    const fiveXxAfterHangups = await count5xx();

    say(`slowloris: ${values['slow-connections']} slow connections for 5 s`);
    const slow = await slowloris({
      url: server.url,
      connections: counts.slowConnections,
      durationMs: 5000,
      body,
    });

    say(`${values.swaps} swaps under load`);
    const swaps = await swapsUnderLoad({
      url: server.url,
      registry: reg.registry,
      adminToken: ADMIN,
      swaps: counts.swaps,
      clients: 8,
      body,
    });

    say('SIGTERM with 32 busy keep-alive connections');
    const term = await keepAliveLoad({
      url: server.url,
      connections: 32,
      path: '/predict',
      body,
      stopAfterMs: 1000,
      stop: () => void (sigtermStop = server.stop(20_000)),
    });
    const exitCode = await sigtermStop;

    say(`kill -9 trials: ${values['kill-trials']}`);
    const kills =
      counts.killTrials > 0
        ? await runKillTrials({ trials: counts.killTrials, log: say })
        : { consistent: 0, total: 0, details: [] };

    const figures = {
      bad_requests: bad.sent,
      bad_requests_5xx: bad.five_xx,
      max_error_body_bytes: bad.max_error_body_bytes,
      metrics_bytes_before: card.metrics_bytes_before,
      metrics_bytes_after: card.metrics_bytes_after,
      hangups_then_5xx_total: fiveXxAfterHangups,
      slowloris_connections: slow.slow_connections,
      slowloris_p50_ms: slow.p50_ms,
      slowloris_p99_ms: slow.p99_ms,
      slowloris_errors: slow.errors,
      swaps: swaps.swaps,
      swap_requests: swaps.requests,
      swap_errors: swaps.errors,
      sigterm_connections: 32,
      sigterm_answers: term.answers,
      sigterm_resets: term.resets,
      sigterm_keepalive_after_signal: term.keepAliveAfterStop,
      sigterm_exit_code: exitCode,
      kill_trials_consistent: kills.consistent,
      kill_trials_total: kills.total,
    };
    const bounds: Record<string, boolean> = {
      'bad_requests_5xx == 0': bad.five_xx === 0,
      'max_error_body_bytes <= 16384': bad.max_error_body_bytes <= 16384,
      'metrics growth < 4096 bytes': card.metrics_bytes_after - card.metrics_bytes_before < 4096,
      'hangups_then_5xx_total == 0': fiveXxAfterHangups === 0,
      'slowloris_errors == 0 and p99 < 1000 ms': slow.errors === 0 && slow.p99_ms < 1000,
      'swap_errors == 0': swaps.errors === 0 && swaps.swaps === counts.swaps,
      'sigterm_resets == 0 and every later answer says close':
        term.resets === 0 && term.keepAliveAfterStop === 0 && exitCode === 0,
      'kill trials all consistent': kills.consistent === kills.total,
    };
    const failed = Object.entries(bounds)
      .filter(([, ok]) => !ok)
      .map(([k]) => k);
    for (const d of kills.details) if (!/consistent after re-run/.test(d)) say(d);
    process.stdout.write(
      JSON.stringify({ ...figures, seconds: Math.round((performance.now() - started) / 100) / 10, failed }) + '\n',
    );
    return failed.length ? 1 : 0;
  } finally {
    if (!sigtermStop) await server.stop();
  }
}

await defineCli(
  {
    name: 'test:adversarial',
    usage: USAGE,
    options: OPTIONS,
    // Hostile clients (slowloris, hang-ups) and kill trials can leave sockets and children behind.
    forceExit: true,
  },
  ({ values }) => main(values),
).main();
