/**
 * npm run deploy -- --strategy rolling|blue-green|canary --image <ref@sha256:…> [--overlay production|blue-green|canary|staging|<dir>]
 *   [--namespace ns] [--app flight-delay-api] [--container api] [--timeout 10m] [--project p] [--bucket b]
 *   [--base-url url] [--dry-run] [--rollback] (blue-green: switch back)
 *   [--window-ms 600000] [--interval-ms 30000] [--max-error-ratio 0.01] [--max-p99-ms 500]
 *   [--on-no-data rollback|promote] [--prometheus-auth auto|google|none]
 * npm run --silent deploy -- --render <overlay|dir|file.yaml> [--image api=<ref>] [--image trainer=<ref>] [--project p] [--bucket b]
 *   prints the manifests with every placeholder filled (pipe to `kubectl apply -f -` / `kubectl create -f -`).
 * Prints the result as JSON on stdout; exit 1 on rollback, abort or failure (a failure before any
 * result: `deploy: <message>` on stderr), 2 on bad usage (core/platform/cli.ts).
 * Env: PROMETHEUS_URL (canary), DEPLOY_API_TOKEN (Bearer token for the smoke test's predict call),
 * GCP_PROJECT / GCS_BUCKET (defaults of --project / --bucket).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { renderDir } from './apply.ts';
import { IMAGE_PLACEHOLDERS, type ImageKind } from './render.ts';
import { dryRunRunner, gcloudAccessToken, realRunner, type DeployRunner } from './runner.ts';
import { blueGreen, canary, rollbackBlueGreen, rolling, type DeployContext, type DeployResult } from './strategies.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { readModelName } from '../../core/schemas/params.ts';
import { choiceOption, defineCli, numberOption, UsageError, type CliStreams } from '../../core/platform/cli.ts';

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

const USAGE = `usage: npm run deploy -- --strategy rolling|blue-green|canary --image <ref@sha256:…> [options]
       npm run --silent deploy -- --render <overlay|dir|file.yaml> [--image api=<ref>] [--image trainer=<ref>] [--project p] [--bucket b]
  roll a release out with a strategy, or (--render) print the manifests with every placeholder
  filled, for \`kubectl apply -f -\`
options:
  --strategy S             rolling, blue-green or canary
  --image [kind=]REF       the release (kind api, the default, or trainer); pin it by digest
  --overlay NAME|DIR       production, blue-green, canary, staging or a kustomize directory
  --namespace NS           (default: flight-delay)
  --app NAME               deployment name (default: flight-delay-api)
  --container NAME         container to update (default: api)
  --model NAME             the model the smoke test and canary queries use (default: params.yaml's register.model_name)
  --timeout D              rollout timeout (default: 10m)
  --project P, --bucket B  fill the manifests' placeholders (default: $GCP_PROJECT, $GCS_BUCKET)
  --base-url URL           where the smoke test reaches the API
  --dry-run                record the changes instead of making them
  --rollback               blue-green: switch the Service back
  canary: --window-ms 600000 --interval-ms 30000 --max-error-ratio 0.01 --max-p99-ms 500
          --on-no-data rollback|promote  --prometheus-auth auto|google|none
env: PROMETHEUS_URL (canary), DEPLOY_API_TOKEN (Bearer token for the smoke test), GCP_PROJECT, GCS_BUCKET
prints the result as JSON (--render: the manifests)
exit: 0 deployed, 1 rolled back, aborted or failed, 2 usage error`;

type Result = DeployResult | { ok: true; objects: number };
type CliResult = { code: number; result: Result | { ok: false; error: string }; rendered?: string };

type RunnerOrFactory = DeployRunner | ((o: { googleAuth: boolean }) => DeployRunner);

export interface DeployCliIo {
  /** The runner, or a factory given the resolved Prometheus auth mode (default: the real kubectl/HTTP runner). */
  runner?: RunnerOrFactory;
  /** Environment for defaults (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Receives the result before it is printed (tests). */
  onResult?: (r: { result: Result; rendered?: string }) => void;
}

const realRunnerFor = ({ googleAuth }: { googleAuth: boolean }) =>
  realRunner({
    prometheusUrl: process.env.PROMETHEUS_URL,
    apiToken: process.env.DEPLOY_API_TOKEN,
    ...(googleAuth ? { prometheusToken: gcloudAccessToken() } : {}),
  });

const cli = defineCli(
  {
    name: 'deploy',
    usage: USAGE,
    options: {
      strategy: { type: 'string' },
      image: { type: 'string', multiple: true },
      namespace: { type: 'string', default: 'flight-delay' },
      app: { type: 'string' },
      container: { type: 'string' },
      model: { type: 'string' },
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
  },
  async ({ values }, io: DeployCliIo & CliStreams) => {
    const env = io.env ?? process.env;
    const print = (result: Result, rendered?: string) => {
      io.onResult?.({ result, rendered });
      io.stdout(rendered ?? `${JSON.stringify(result, null, 2)}\n`);
    };
    const auth = choiceOption(values['prometheus-auth'], 'prometheus-auth', ['auto', 'google', 'none']);
    const images: Partial<Record<ImageKind, string>> = {};
    for (const spec of values.image ?? []) {
      const m = /^([a-z]+)=(.+)$/.exec(spec);
      const [kind, ref] = m ? [m[1], m[2]] : ['api', spec]; // image references never contain `=`
      if (!(IMAGE_PLACEHOLDERS as readonly string[]).includes(kind))
        throw new UsageError(`--image ${spec}: image name must be one of ${IMAGE_PLACEHOLDERS.join(', ')}`);
      images[kind as ImageKind] = ref;
    }
    const settings = { GCP_PROJECT: values.project ?? env.GCP_PROJECT, GCS_BUCKET: values.bucket ?? env.GCS_BUCKET };
    const pick = (): DeployRunner => {
      const given = io.runner ?? realRunnerFor;
      return typeof given === 'function' ? given({ googleAuth: wantsGoogleAuth(auth, env.PROMETHEUS_URL) }) : given;
    };

    if (values.render) {
      const manifests = await renderDir({ runner: pick(), settings }, overlayPath(values.render), { images });
      print({ ok: true, objects: manifests.length }, manifests.map((m) => stringify(m)).join('---\n'));
      return 0;
    }

    if (!values.strategy) throw new UsageError('--strategy must be rolling, blue-green or canary');
    const strategy = choiceOption(values.strategy, 'strategy', ['rolling', 'blue-green', 'canary']);
    if (values.rollback && strategy !== 'blue-green')
      throw new UsageError('--rollback is only for --strategy blue-green');
    if (!values.rollback && !images.api) throw new UsageError('--image <ref> is required');
    const onNoData = choiceOption(values['on-no-data'], 'on-no-data', ['rollback', 'promote']);
    const nums = {
      windowMs: numberOption(values['window-ms'], 'window-ms', { min: 0 }),
      intervalMs: numberOption(values['interval-ms'], 'interval-ms', { min: 0 }),
      maxErrorRatio: numberOption(values['max-error-ratio'], 'max-error-ratio', { min: 0 }),
      maxP99Ms: numberOption(values['max-p99-ms'], 'max-p99-ms', { min: 0 }),
    };

    const runner = pick();
    const r = values['dry-run'] ? dryRunRunner(runner) : runner;
    const model = values.model ?? (await readModelName('params.yaml'));
    if (!model)
      throw new UsageError(
        'no model name: params.yaml (in the working directory) has no register.model_name; run from the repository root or pass --model',
      );
    const ctx: DeployContext = {
      runner: r,
      namespace: values.namespace,
      model,
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
    else result = await canary(ctx, image, { ...nums, onNoData });
    if ('planned' in r)
      result = { ...result, outcome: 'planned', would: result.outcome, dryRun: true, planned: r.planned };
    print(result);
    // The JSON says why (rolled back, aborted).
    return result.ok ? 0 : 1;
  },
);

/**
 * Run the CLI in-process with this runner (or factory) and environment: the exit code, the result
 * (a usage error or failure: `{ ok: false, error }` with the message) and, for --render, the YAML.
 */
export async function runCli(
  argv: string[],
  runnerOrFactory: RunnerOrFactory,
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  let got: { result: Result; rendered?: string } | undefined;
  let stderr = '';
  const code = await cli.run(argv, {
    runner: runnerOrFactory,
    env,
    onResult: (r) => void (got = r),
    stdout: () => {},
    stderr: (t) => void (stderr += t),
  });
  if (got) return { code, ...got };
  // `deploy: <message>`, and after a usage error the synopsis line.
  const lines = stderr.trimEnd().split('\n');
  const error = (code === 2 ? lines.slice(0, -1) : lines).join('\n').replace(/^deploy: /, '');
  return { code, result: { ok: false, error } };
}

if (isMain(import.meta.url)) await cli.main();
