/**
 * npm run deploy -- --strategy rolling|blue-green|canary --image <ref@sha256:…> [--overlay production|blue-green|canary|staging|<dir>]
 *   [--namespace ns] [--app flight-delay-api] [--container api] [--timeout 10m] [--project p] [--bucket b]
 *   [--base-url url] [--dry-run] [--rollback] (blue-green: switch back)
 *   [--window-ms 600000] [--interval-ms 30000] [--max-error-ratio 0.01] [--max-p99-ms 500]
 *   [--on-no-data rollback|promote] [--prometheus-auth auto|google|none]
 * npm run --silent deploy -- --render <overlay|dir|file.yaml> [--image api=<ref>] [--image trainer=<ref>] [--project p] [--bucket b]
 *   prints the manifests with every placeholder filled (pipe to `kubectl apply -f -` / `kubectl create -f -`).
 * Prints the result as JSON on stdout; exit 1 on rollback, abort or failure, 2 on bad usage.
 * Env: PROMETHEUS_URL (canary), DEPLOY_API_TOKEN (Bearer token for the smoke test's predict call),
 * GCP_PROJECT / GCS_BUCKET (defaults of --project / --bucket).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { renderDir } from './apply.ts';
import { IMAGE_PLACEHOLDERS, type ImageKind } from './render.ts';
import { dryRunRunner, gcloudAccessToken, realRunner, type DeployRunner } from './runner.ts';
import { blueGreen, canary, rollbackBlueGreen, rolling, type DeployContext, type DeployResult } from './strategies.ts';
import { isMain } from '../../core/platform/is-main.ts';

const K8S = fileURLToPath(new URL('../k8s/', import.meta.url));

/** `production` → infra/k8s/overlays/production; a path is taken as it is. */
export function overlayPath(nameOrPath: string): string {
  return /^[a-z0-9-]+$/.test(nameOrPath) && existsSync(`${K8S}overlays/${nameOrPath}`)
    ? `${K8S}overlays/${nameOrPath}`
    : nameOrPath;
}

/** Google Managed Prometheus wants a Google OAuth token; a plain Prometheus URL gets none unless asked. */
export function wantsGoogleAuth(mode: string, url: string | undefined): boolean {
  if (mode === 'google') return true;
  if (mode === 'none') return false;
  try {
    return !!url && new URL(url).hostname === 'monitoring.googleapis.com';
  } catch {
    return false;
  }
}

type CliResult = {
  code: number;
  result: DeployResult | { ok: false; error: string } | { ok: true; objects: number };
  rendered?: string;
};

/** `runner` may be a factory that gets the resolved Prometheus auth mode (the real CLI builds its runner that way). */
export async function runCli(
  argv: string[],
  runnerOrFactory: DeployRunner | ((o: { googleAuth: boolean }) => DeployRunner),
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        strategy: { type: 'string' },
        image: { type: 'string', multiple: true },
        namespace: { type: 'string', default: 'flight-delay' },
        app: { type: 'string' },
        container: { type: 'string' },
        overlay: { type: 'string' },
        render: { type: 'string' },
        project: { type: 'string' },
        bucket: { type: 'string' },
        'base-url': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        timeout: { type: 'string', default: '10m' },
        rollback: { type: 'boolean', default: false },
        'window-ms': { type: 'string', default: '600000' },
        'interval-ms': { type: 'string', default: '30000' },
        'max-error-ratio': { type: 'string', default: '0.01' },
        'max-p99-ms': { type: 'string', default: '500' },
        'on-no-data': { type: 'string', default: 'rollback' },
        'prometheus-auth': { type: 'string', default: 'auto' },
      },
    }));
  } catch (err) {
    return { code: 2, result: { ok: false, error: (err as Error).message } };
  }
  const usage = (error: string) => ({ code: 2, result: { ok: false as const, error } });
  const auth = values['prometheus-auth'];
  if (!['auto', 'google', 'none'].includes(auth)) return usage('--prometheus-auth must be auto, google or none');
  const runner =
    typeof runnerOrFactory === 'function'
      ? runnerOrFactory({ googleAuth: wantsGoogleAuth(auth, env.PROMETHEUS_URL) })
      : runnerOrFactory;
  const settings = { GCP_PROJECT: values.project ?? env.GCP_PROJECT, GCS_BUCKET: values.bucket ?? env.GCS_BUCKET };
  const images: Partial<Record<ImageKind, string>> = {};
  for (const spec of values.image ?? []) {
    const m = /^([a-z]+)=(.+)$/.exec(spec);
    const [kind, ref] = m ? [m[1], m[2]] : ['api', spec]; // image references never contain `=`
    if (!(IMAGE_PLACEHOLDERS as readonly string[]).includes(kind))
      return usage(`--image ${spec}: image name must be one of ${IMAGE_PLACEHOLDERS.join(', ')}`);
    images[kind as ImageKind] = ref;
  }

  if (values.render) {
    try {
      const manifests = await renderDir({ runner, settings }, overlayPath(values.render), { images });
      return {
        code: 0,
        result: { ok: true, objects: manifests.length },
        rendered: manifests.map((m) => stringify(m)).join('---\n'),
      };
    } catch (err) {
      return { code: 1, result: { ok: false, error: (err as Error).message } };
    }
  }

  const strategy = values.strategy;
  if (!strategy || !['rolling', 'blue-green', 'canary'].includes(strategy))
    return usage('--strategy must be rolling, blue-green or canary');
  if (values.rollback && strategy !== 'blue-green') return usage('--rollback is only for --strategy blue-green');
  if (!values.rollback && !images.api) return usage('--image <ref> is required');
  if (!['rollback', 'promote'].includes(values['on-no-data'])) return usage('--on-no-data must be rollback or promote');
  const nums = {
    windowMs: Number(values['window-ms']),
    intervalMs: Number(values['interval-ms']),
    maxErrorRatio: Number(values['max-error-ratio']),
    maxP99Ms: Number(values['max-p99-ms']),
  };
  for (const [k, v] of Object.entries(nums))
    if (!Number.isFinite(v) || v < 0) return usage(`--${k} must be a non-negative number`);

  const r = values['dry-run'] ? dryRunRunner(runner) : runner;
  const ctx: DeployContext = {
    runner: r,
    namespace: values.namespace,
    rolloutTimeout: values.timeout,
    settings,
    ...(values.app ? { app: values.app } : {}),
    ...(values.container ? { container: values.container } : {}),
    ...(values.overlay ? { overlay: overlayPath(values.overlay) } : {}),
    ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
  };
  const image = images.api!;
  if (!/@sha256:[0-9a-f]{64}$/.test(image))
    r.log(`--image ${image} is not pinned by digest: pods re-created later may run whatever the tag points to then`);
  let result: DeployResult;
  if (strategy === 'rolling') result = await rolling(ctx, image);
  else if (strategy === 'blue-green')
    result = values.rollback ? await rollbackBlueGreen(ctx) : await blueGreen(ctx, image);
  else result = await canary(ctx, image, { ...nums, onNoData: values['on-no-data'] as 'rollback' | 'promote' });
  if ('planned' in r) result = { ...result, dryRun: true, planned: r.planned };
  return { code: result.ok ? 0 : 1, result };
}

if (isMain(import.meta.url)) {
  const runner = ({ googleAuth }: { googleAuth: boolean }) =>
    realRunner({
      prometheusUrl: process.env.PROMETHEUS_URL,
      apiToken: process.env.DEPLOY_API_TOKEN,
      ...(googleAuth ? { prometheusToken: gcloudAccessToken() } : {}),
    });
  const { code, result, rendered } = await runCli(process.argv.slice(2), runner, process.env);
  if (rendered !== undefined && code === 0) process.stdout.write(rendered);
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = code;
}
