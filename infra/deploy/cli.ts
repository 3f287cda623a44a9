/**
 * npm run deploy -- --strategy rolling|blue-green|canary --image <ref> [--namespace ns]
 *   [--base-url url] [--dry-run] [--timeout 10m] [--rollback] (blue-green: switch back)
 *   [--window-ms 600000] [--interval-ms 30000] [--max-error-ratio 0.01] [--max-p99-ms 500]
 * Prints the result as JSON on stdout; exit 1 on rollback, abort or failure, 2 on bad usage.
 * Env: PROMETHEUS_URL (canary), DEPLOY_API_TOKEN (Bearer token for the smoke test's predict call).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { dryRunRunner, realRunner, type DeployRunner } from './runner.ts';
import { blueGreen, canary, rollbackBlueGreen, rolling, type DeployContext, type DeployResult } from './strategies.ts';

export async function runCli(argv: string[], runner: DeployRunner): Promise<{ code: number; result: DeployResult | { ok: false; error: string } }> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        strategy: { type: 'string' }, image: { type: 'string' }, namespace: { type: 'string', default: 'flight-delay' },
        'base-url': { type: 'string' }, 'dry-run': { type: 'boolean', default: false }, timeout: { type: 'string', default: '10m' },
        rollback: { type: 'boolean', default: false }, 'window-ms': { type: 'string', default: '600000' }, 'interval-ms': { type: 'string', default: '30000' },
        'max-error-ratio': { type: 'string', default: '0.01' }, 'max-p99-ms': { type: 'string', default: '500' },
      },
    }));
  } catch (err) {
    return { code: 2, result: { ok: false, error: (err as Error).message } };
  }
  const usage = (error: string) => ({ code: 2, result: { ok: false as const, error } });
  const strategy = values.strategy;
  if (!strategy || !['rolling', 'blue-green', 'canary'].includes(strategy)) return usage('--strategy must be rolling, blue-green or canary');
  if (values.rollback && strategy !== 'blue-green') return usage('--rollback is only for --strategy blue-green');
  if (!values.rollback && !values.image) return usage('--image <ref> is required');
  const nums = { windowMs: Number(values['window-ms']), intervalMs: Number(values['interval-ms']), maxErrorRatio: Number(values['max-error-ratio']), maxP99Ms: Number(values['max-p99-ms']) };
  for (const [k, v] of Object.entries(nums)) if (!Number.isFinite(v) || v < 0) return usage(`--${k} must be a non-negative number`);

  const r = values['dry-run'] ? dryRunRunner(runner) : runner;
  const ctx: DeployContext = { runner: r, namespace: values.namespace!, rolloutTimeout: values.timeout, ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}) };
  const image = values.image!;
  let result: DeployResult;
  if (strategy === 'rolling') result = await rolling(ctx, image);
  else if (strategy === 'blue-green') result = values.rollback ? await rollbackBlueGreen(ctx) : await blueGreen(ctx, image);
  else result = await canary(ctx, image, nums);
  if ('planned' in r) result = { ...result, dryRun: true, planned: r.planned };
  return { code: result.ok ? 0 : 1, result };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const runner = realRunner({ prometheusUrl: process.env.PROMETHEUS_URL, apiToken: process.env.DEPLOY_API_TOKEN });
  const { code, result } = await runCli(process.argv.slice(2), runner);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = code;
}
