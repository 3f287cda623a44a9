/**
 * `npm run registry -- <command>`: read the model registry and move stage pointers.
 * Exit codes: 0 ok, 1 the registry refused or failed (unknown version, empty stage, missing
 * reason, damaged files), 2 usage errors.
 */
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import {
  openRegistry,
  parseVersionNumber,
  isStageName,
  RegistryError,
  type Registry,
  type GcsClient,
  type VersionInfo,
} from '../../core/registry/index.ts';
import { resolveIo, runCliWith, type CliIo } from '../cli-io.ts';
import { formatHistory, formatVersion, formatVersionList } from './format.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { defineCli, UsageError, type CliStreams } from '../../core/platform/cli.ts';
import { readModelName } from '../../core/schemas/params.ts';

const USAGE = `usage: npm run registry -- <command> [options]
  list [name]                        versions, newest first, with stages, times and primary metric
  show <ref>                         metadata, stages and files of one version
  promote <ref> <stage> --reason ".."  point a stage (staging, production, …) at a version; production
                                     only gets a bundle that loads and reproduces finite golden outputs
  rollback <stage> --reason ".."     put a stage back to the version it held before its last change
  history [name]                     every register, promote, rollback: who, via what, when, why
  verify [name]                      re-check every stored file and the history
  <ref> is a version (3 or v3), 'latest', or a stage name (the version it points at)
options:
  --registry <url>   local directory or gs://bucket/prefix (default: $REGISTRY_URL, else registry/)
  --model <name>     model name (default: $MODEL_NAME, else register.model_name of params.yaml,
                     else the registry's only model)
  --reason <text>    why (required by promote and rollback)
  --actor <name>     who (default: $GITHUB_ACTOR, else $USER)
  --force            promote to production without checking the bundle
  --json             print JSON instead of tables
exit: 0 ok, 1 the registry refused or failed, 2 usage error`;

export type { CliIo } from '../cli-io.ts';

export interface RegistryCliIo extends CliIo {
  /** Environment for defaults (default: process.env). */
  env?: Record<string, string | undefined>;
  /** GCS client for gs:// registries (tests pass a fake). */
  storage?: GcsClient;
  clock?: () => Date;
  /** Why a bundle directory must not serve, or null (default: load it and check its golden outputs as the API does). */
  checkBundle?: (dir: string) => Promise<string | null>;
}

/** The API's own acceptance test of a bundle: it loads, and reproduces finite golden outputs (tolerance 1e-6). */
async function servable(dir: string): Promise<string | null> {
  const { selectBackend } = await import('../../core/model/tfjs-backend.ts');
  const { loadBundle } = await import('../../core/model/bundle.ts');
  const { tf } = await selectBackend({});
  let bundle;
  try {
    bundle = await loadBundle(tf, dir);
  } catch (err) {
    return `it does not load: ${(err as Error).message}`;
  }
  try {
    const g = bundle.checkGolden(1e-6);
    return g.ok ? null : `its golden check fails: ${g.problem}`;
  } finally {
    bundle.dispose();
  }
}

/** Refuse to point production at a version the API would refuse (or serve NaN from). */
async function checkForProduction(
  registry: Registry,
  model: string,
  v: VersionInfo,
  check: (dir: string) => Promise<string | null>,
): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'registry-check-'));
  try {
    const { dir } = await registry.fetchBundle(model, v.version, join(scratch, 'bundle'), { inPlace: true });
    const problem = await check(dir);
    if (problem)
      throw new RegistryError(
        `refusing to promote ${model} v${v.version} to production: ${problem}. Promote another version, or pass --force to promote it anyway`,
        'conflict',
      );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Without a name anywhere (no params.yaml here): the registry's model, when it holds just one. */
async function onlyModel(registry: Registry): Promise<string> {
  const models = await registry.listModels();
  if (models.length === 1) return models[0];
  throw new UsageError(
    `no model name: pass --model <name>, set MODEL_NAME, or run from the repository root (params.yaml register.model_name); ${registry.describe()} holds ${models.length ? `models ${models.join(', ')}` : 'no model'}`,
  );
}

const COMMANDS: Record<string, { min: number; max: number }> = {
  list: { min: 0, max: 1 },
  show: { min: 1, max: 1 },
  promote: { min: 2, max: 2 },
  rollback: { min: 1, max: 1 },
  history: { min: 0, max: 1 },
  verify: { min: 0, max: 1 },
};

async function resolveRef(registry: Registry, model: string, ref: string): Promise<VersionInfo> {
  const n = parseVersionNumber(ref);
  if (n !== null) return registry.getVersion(model, n);
  if (ref === 'latest') {
    const { latest } = await registry.state(model);
    if (latest === null) throw new RegistryError(`model '${model}' has no versions yet`, 'not-found');
    return registry.getVersion(model, latest);
  }
  if (isStageName(ref)) return registry.requireStage(model, ref);
  throw new UsageError(`'${ref}' is not a version (3, v3), 'latest' or a stage name`);
}

const cli = defineCli(
  {
    name: 'registry',
    usage: USAGE,
    options: {
      registry: { type: 'string' },
      model: { type: 'string' },
      reason: { type: 'string' },
      actor: { type: 'string' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    positionals: true,
  },
  async ({ values, positionals }, io: RegistryCliIo & CliStreams) => {
    const { log, cwd, write } = resolveIo(io, 'registry');
    const env = io.env ?? process.env;
    const [command, ...args] = positionals;
    const spec = command === undefined ? undefined : COMMANDS[command];
    if (!spec) throw new UsageError(command === undefined ? 'no command given' : `unknown command '${command}'`);
    if (args.length < spec.min || args.length > spec.max)
      throw new UsageError(`wrong number of arguments for '${command}'`);
    const url = values.registry ?? env.REGISTRY_URL ?? join(cwd, 'registry');
    const takesName = command === 'list' || command === 'history' || command === 'verify';
    const named =
      (takesName ? args[0] : undefined) ??
      values.model ??
      env.MODEL_NAME ??
      (await readModelName(join(cwd, 'params.yaml')));
    const json = values.json;
    const print = (human: string, data: unknown) => write((json ? JSON.stringify(data, null, 2) : human) + '\n');
    const who = { actor: values.actor, source: 'cli', reason: values.reason };
    const registry = await openRegistry(url, { baseDir: cwd, log, env, storage: io.storage, clock: io.clock });
    const model = named ?? (await onlyModel(registry));
    switch (command) {
      case 'list': {
        const versions = await registry.listVersions(model);
        print(formatVersionList(model, registry.describe(), versions), versions);
        return 0;
      }
      case 'show': {
        const v = await resolveRef(registry, model, args[0]);
        print(formatVersion(v), v);
        return 0;
      }
      case 'promote': {
        const v = await resolveRef(registry, model, args[0]);
        if (args[1] === 'production' && !values.force)
          await checkForProduction(registry, model, v, io.checkBundle ?? servable);
        const change = await registry.setStage(model, args[1], v.version, who);
        const tags = change.event ? `  (${change.event.tags.join(' ')})` : '';
        print(
          change.changed
            ? `${model} ${change.stage}: v${change.from ?? '-'} → v${change.to}${tags}`
            : `${model} ${change.stage} already at v${change.to}; nothing changed`,
          change,
        );
        return 0;
      }
      case 'rollback': {
        const change = await registry.rollback(model, args[0], who);
        print(
          `${model} ${change.stage} rolled back: v${change.from} → v${change.to}  (${change.event!.tags.join(' ')})`,
          change,
        );
        return 0;
      }
      case 'history': {
        const events = await registry.history(model);
        print(formatHistory(model, events), events);
        return 0;
      }
      default: {
        const report = await registry.verify(model);
        print(
          report.ok
            ? `${model}: ${report.versionsChecked} versions verified, history consistent`
            : `${model}: ${report.problems.length} problems\n${report.problems.map((p) => '  ' + p).join('\n')}`,
          report,
        );
        // The report lists the problems.
        return report.ok ? 0 : 1;
      }
    }
  },
);

export function main(argv: string[], io: RegistryCliIo = {}): Promise<number> {
  return runCliWith(cli, argv, io);
}

if (isMain(import.meta.url)) await cli.main();
