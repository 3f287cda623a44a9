/**
 * `npm run registry -- <command>`: read the model registry and move stage pointers.
 * Exit codes: 0 ok, 1 the registry refused or failed (unknown version, empty stage, missing
 * reason, damaged files), 2 usage errors.
 */
import { join } from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import {
  openRegistry,
  parseVersionNumber,
  isStageName,
  RegistryError,
  gitIn,
  isAncestor,
  resolveCommit,
  shellQuote,
  type Registry,
  type GcsClient,
  type VersionInfo,
} from '../../core/registry/index.ts';
import { isGtoSemver, registryVersionOf, type GtoVersion } from '../../core/registry/gto-state.ts';
import { resolveIo, runCliWith, type CliIo } from '../cli-io.ts';
import {
  formatGtoLine,
  formatGtoVersion,
  formatHistory,
  formatVersion,
  formatVersionList,
  gtoVersionOf,
  tagOnlyVersions,
} from './format.ts';
import { syncFromTags } from './sync.ts';
import {
  applyPlan,
  describeTag,
  notTheRegistrys,
  openGitContext,
  planAssign,
  planUnassign,
  publishPlan,
  type GitContext,
  type TagPlan,
} from './gto-tags.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { defineCli, UsageError, type CliStreams } from '../../core/platform/cli.ts';
import { readModelName } from '../../core/schemas/params.ts';
import { readMetrics } from '../../core/schemas/metrics-files.ts';
import { parseYamlPy } from '../../core/dvc/index.ts';
import { getRunResults, putRunResults, runResultsKey } from './run-store.ts';
import { RECORD_FILES, artifactMd5In, collectRunFiles, gitOutputs, writeRunFiles } from './run-results.ts';

/** The stages the API and the workflows read; a name close to one of them is most likely a typo. */
const KNOWN_STAGES = ['staging', 'production'];

/**
 * A stage that looks like a known one misspelt (`prod`, `staging2`, `prodcution`) is refused before
 * anything moves: promoting to it would create a stage nothing serves. `--force` creates it anyway.
 */
export function checkStageSpelling(stage: string, force: boolean): void {
  if (force || KNOWN_STAGES.includes(stage)) return;
  const near = KNOWN_STAGES.find((k) => k.startsWith(stage) || stage.startsWith(k) || editDistance(stage, k) <= 2);
  if (near)
    throw new UsageError(
      `stage '${stage}' is not one the API or the workflows read; did you mean '${near}'? (pass --force to create stage '${stage}')`,
    );
}

/**
 * Who runs a command when the environment does not say ($GITHUB_ACTOR, $USER: a container often
 * sets neither): git's user.name here, else the OS account. Undefined leaves it to the registry.
 */
async function personAtTheKeyboard(env: NodeJS.ProcessEnv, cwd: string): Promise<string | undefined> {
  if (env.GITHUB_ACTOR?.trim() || env.USER?.trim()) return undefined;
  const fromGit = await gitIn(cwd)(['config', 'user.name']).then(
    (s) => s.trim(),
    () => '',
  );
  if (fromGit) return fromGit;
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

/** A stage's name as typed: its grammar, then a likely typo of a known stage (exit 2 either way). */
function checkStageArg(stage: string, force: boolean): void {
  if (!isStageName(stage))
    throw new UsageError(
      `invalid stage ${JSON.stringify(stage)}: use a lowercase letter then letters, digits or '-' (e.g. staging, production)`,
    );
  checkStageSpelling(stage, force);
}

/**
 * rollback and demote act on a stage the model has: a name it never had is most likely a typo,
 * which must not read as "already empty; nothing changed".
 */
async function checkStageExists(registry: Registry, model: string, stage: string): Promise<void> {
  checkStageArg(stage, true);
  if (KNOWN_STAGES.includes(stage)) return;
  const stages = Object.keys((await registry.state(model)).stages);
  if (stages.includes(stage)) return;
  const near = [...new Set([...KNOWN_STAGES, ...stages])].find(
    (k) => k.startsWith(stage) || stage.startsWith(k) || editDistance(stage, k) <= 2,
  );
  throw new UsageError(
    `${model} has no stage '${stage}'${near ? `; did you mean '${near}'?` : ''} (its stages: ${stages.join(', ') || 'none'})`,
  );
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

const USAGE = `usage: npm run registry -- <command> [options]
  list [name]                        versions, newest first, with stages, times and primary metric; in a
                                     git checkout also GTO's view from its tags (versions that exist only
                                     as tags, e.g. v2.0.1, and stages the tags and the registry disagree on)
  show <ref>                         metadata, stages and files of one version, and its GTO tags
  promote <ref> <stage> --reason ".."  point a stage (staging, production, …) at a version; production
                                     only gets a bundle that loads and reproduces finite golden outputs
  rollback <stage> --reason ".."     put a stage back to the version it held before its last change
  demote <stage> [--reason ".."]     leave a stage empty (a later rollback restores it)
  sync-from-tags [--dry-run]         set the registry's stages to what GTO's tags say (the tags are the
                                     record, by anyone); refuses versions whose bundle the registry does
                                     not hold, changing nothing
  history [name]                     every register, promote, rollback: who, via what, when, why
  verify [name]                      re-check every stored file and the history; name stored bundles no
                                     version uses (left by a register that failed after storing)
  gc [name]                          remove those unused bundles (older than 10 minutes)
  put-run [<ref>]                    after a pipeline run: store what it leaves for git (dvc.lock, data.dvc,
                                     params.yaml, metrics/…) beside the version it registered (default:
                                     the one metrics/register.json names); the trainer Job ends with this
  import-run <ref>                   write a version's stored run results into this git checkout (refuses
                                     when dvc.lock, data.dvc or params.yaml have uncommitted changes),
                                     then commit them: promote <ref> then tags that commit
  <ref> is a version (3, v3, v3.0.0), 'latest', a stage name (the version it points at), or for
  show a GTO version registered only as tags (v2.0.1)
  In a git checkout, promote, rollback and demote also create the GTO tag that says the same
  (annotated, GTO's counter and message, at the version's registered commit) and print the
  \`git push\` that publishes it; for a gs:// registry (the one the API serves) they push the tag to
  $TAG_REMOTE (origin) first and move the registry only once it is published.
options:
  --registry <url>   local directory or gs://bucket/prefix (default: $REGISTRY_URL, else registry/)
  --model <name>     model name (default: $MODEL_NAME, else register.model_name of params.yaml,
                     else the registry's only model)
  --reason <text>    why (required by promote and rollback)
  --actor <name>     who (default: $GITHUB_ACTOR, else $USER, else git's user.name, else the OS account)
  --force            promote to production without checking the bundle, or to a stage named like a
                     misspelt known one (prod, stagin)
  --dry-run          sync-from-tags: say what would change, change nothing
  --git <dir|none>   the git checkout whose tags are read and written (default: the one holding the
                     current directory, if any; none: the registry only)
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

/** Why the API would refuse version `v` (or serve NaN from it), or null. */
async function servingProblem(
  registry: Registry,
  model: string,
  v: VersionInfo,
  check: (dir: string) => Promise<string | null>,
): Promise<string | null> {
  const scratch = await mkdtemp(join(tmpdir(), 'registry-check-'));
  try {
    const { dir } = await registry.fetchBundle(model, v.version, join(scratch, 'bundle'), { inPlace: true });
    return await check(dir);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Refuse to point production at a version the API would refuse (or serve NaN from). */
async function checkForProduction(
  registry: Registry,
  model: string,
  v: VersionInfo,
  check: (dir: string) => Promise<string | null>,
): Promise<void> {
  const problem = await servingProblem(registry, model, v, check);
  if (problem)
    throw new RegistryError(
      `refusing to promote ${model} v${v.version} to production: ${problem}. Promote another version, or pass --force to promote it anyway`,
      'conflict',
    );
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
  demote: { min: 1, max: 1 },
  'sync-from-tags': { min: 0, max: 0 },
  history: { min: 0, max: 1 },
  verify: { min: 0, max: 1 },
  gc: { min: 0, max: 1 },
  'put-run': { min: 0, max: 1 },
  'import-run': { min: 1, max: 1 },
};

type Resolved = { kind: 'registry'; v: VersionInfo } | { kind: 'tags'; g: GtoVersion };

/** A registry version (3, v3, v3.0.0, latest, a stage), or a GTO version that exists only as tags. */
async function resolveRef(registry: Registry, model: string, ref: string, tags: GitContext | null): Promise<Resolved> {
  const n = parseVersionNumber(ref) ?? registryVersionOf(ref);
  if (n !== null) {
    const held =
      (await registry.listModels()).includes(model) &&
      (await registry.listVersions(model)).some((v) => v.version === n);
    const g = tags?.gto.versions.find((x) => x.version === `v${n}.0.0`);
    if (!held && g) return { kind: 'tags', g };
    return { kind: 'registry', v: await registry.getVersion(model, n) };
  }
  if (ref === 'latest') {
    const { latest } = await registry.state(model);
    if (latest === null) throw new RegistryError(`model '${model}' has no versions yet`, 'not-found');
    return { kind: 'registry', v: await registry.getVersion(model, latest) };
  }
  if (isGtoSemver(ref)) {
    const g = tags?.gto.versions.find((x) => x.version === ref);
    if (g) return { kind: 'tags', g };
    throw new RegistryError(
      tags
        ? `no version ${ref} of '${model}': the registry's versions are v1.0.0, v2.0.0… in GTO, and no tag of ${tags.dir} registers ${ref}`
        : `${ref} is not a registry version (registry version N is GTO's vN.0.0); other GTO versions are read from git tags: run this in the repository's checkout`,
      'not-found',
    );
  }
  if (isStageName(ref)) return { kind: 'registry', v: await registry.requireStage(model, ref) };
  throw new UsageError(`'${ref}' is not a version (3, v3, v3.0.0), 'latest' or a stage name`);
}

/** A registry version to change a stage to: a version that exists only as tags has no bundle to serve. */
async function registryRef(
  registry: Registry,
  model: string,
  ref: string,
  tags: GitContext | null,
): Promise<VersionInfo> {
  const r = await resolveRef(registry, model, ref, tags);
  if (r.kind === 'registry') return r.v;
  throw new RegistryError(
    `${model} ${r.g.version} exists only as git tags (${r.g.registration ? describeTag(r.g.registration) : `commit ${r.g.commit}`}): the registry holds no bundle for it, so no stage can serve it; register its bundle in the registry first`,
    'not-found',
  );
}

type Print = (human: string, data: unknown) => void;

/** `put-run`: store the results of the run in `cwd` beside the version it registered. */
async function putRun(
  registry: Registry,
  model: string,
  ref: string | undefined,
  cwd: string,
  by: { actor: string; at: Date },
  print: Print,
): Promise<number> {
  let v: VersionInfo;
  if (ref !== undefined) v = await registryRef(registry, model, ref, null);
  else {
    const reg = await readMetrics('register', { repo: cwd });
    if (!reg)
      throw new RegistryError(
        `no metrics/register.json in ${cwd}: run put-run where the pipeline has just run, or name the version (put-run <N>)`,
        'not-found',
      );
    if (reg.model_name !== model)
      throw new RegistryError(
        `metrics/register.json names model ${reg.model_name}, not ${model}: pass --model ${reg.model_name}`,
        'invalid',
      );
    v = await registry.getVersion(model, reg.version);
  }
  const files = await collectRunFiles(cwd);
  const lock = files.find((f) => f.path === 'dvc.lock')!.data.toString('utf8');
  const recorded = artifactMd5In(await readFile(join(cwd, 'dvc.yaml'), 'utf8'), lock, model);
  if (recorded !== v.bundle.md5) {
    // The register stage returns the version that already holds the same model (its bundle from that
    // earlier run): this run's dvc.lock names its own bundle, so the earlier run's results are v's.
    print(
      `${model} v${v.version}: stored nothing: this run's dvc.lock records ${recorded ? `bundle ${recorded}` : 'no bundle'} for ${model}, ` +
        `but v${v.version} holds bundle ${v.bundle.md5}${ref === undefined ? ` (the register stage found the same model in v${v.version}, registered by an earlier run: that run's results are v${v.version}'s)` : ''}`,
      { model, version: v.version, stored: false, recorded, bundle_md5: v.bundle.md5 },
    );
    return ref === undefined ? 0 : 1;
  }
  const stored = await putRunResults(registry, model, v.version, files, by);
  const bytes = files.reduce((n, f) => n + f.data.length, 0);
  print(
    `${model} v${v.version}: stored the run's ${files.length} result files (${bytes} bytes: ${files
      .filter((f) => !f.path.includes('/'))
      .map((f) => f.path)
      .join(', ')}, …) in ${registry.describe()}/${runResultsKey(model, v.version)}\n` +
      `in a checkout of the commit it was trained from (or a later one): npm run registry -- import-run ${v.version}, then commit them`,
    {
      model,
      version: v.version,
      stored: true,
      stored_at: stored.stored_at,
      key: runResultsKey(model, v.version),
      files: files.map((f) => f.path),
    },
  );
  return 0;
}

const short = (sha: string) => sha.slice(0, 12);

/** Paths of `paths` that git shows as changed in the work tree or the index (relative to `ctx.dir`). */
async function uncommitted(ctx: GitContext, paths: string[]): Promise<string[]> {
  const out = await ctx.git(['status', '--porcelain', '--untracked-files=all', '--', ...paths]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3));
}

/** "N files, M bytes" of a .dvc file's first output, or null. */
function rawStoreOf(text: string): string | null {
  try {
    const out = (parseYamlPy(text, 'data.dvc') as { outs?: { nfiles?: unknown; size?: unknown }[] } | null)?.outs?.[0];
    return typeof out?.nfiles === 'number' && typeof out.size === 'number'
      ? `${out.nfiles} files, ${out.size} bytes`
      : null;
  } catch {
    return null;
  }
}

/** `import-run`: write `v`'s stored run results into the checkout, for the user to commit. */
async function importRun(
  registry: Registry,
  model: string,
  v: VersionInfo,
  ctx: GitContext,
  print: Print,
): Promise<number> {
  const results = await getRunResults(registry, model, v.version);
  if (!results)
    throw new RegistryError(
      `no run results stored for ${model} v${v.version} in ${registry.describe()}: a run stores them with registry -- put-run at its end (the trainer Job does, since its checkout goes with the pod); a version the train workflow trained has its results commit already (it commits them)`,
      'not-found',
    );
  const lock = results.files.find((f) => f.path === 'dvc.lock');
  const recorded = lock
    ? artifactMd5In(await readFile(join(ctx.dir, 'dvc.yaml'), 'utf8'), lock.data.toString('utf8'), model)
    : null;
  if (recorded !== v.bundle.md5)
    throw new RegistryError(
      `the run results stored for ${model} v${v.version} do not record its bundle (their dvc.lock has ${recorded ?? 'none'} for ${model}, v${v.version} is ${v.bundle.md5}): nothing was written`,
      'corrupt',
    );
  const dirty = await uncommitted(ctx, [...RECORD_FILES]);
  if (dirty.length)
    throw new RegistryError(
      `refusing to import: ${dirty.join(', ')} ${dirty.length === 1 ? 'has' : 'have'} uncommitted changes in ${ctx.dir}, which the import would replace. ` +
        `Commit them, or set them aside (git stash) or discard them (git checkout -- ${dirty.join(' ')}), and run this again. Nothing was written`,
      'conflict',
    );
  if (v.git_commit) {
    const from = await resolveCommit(ctx.git, v.git_commit);
    const contained = from ? await isAncestor(ctx.git, from, 'HEAD') : null;
    if (!contained)
      throw new RegistryError(
        from
          ? `HEAD does not contain ${short(from)}, the commit ${model} v${v.version} was trained from (its dvc.lock records that commit's code and params): check out the branch that does (the one its trainer image was built from) and run this again. Nothing was written`
          : `${model} v${v.version} was trained from commit ${v.git_commit}, which this repository does not have: git fetch it (and check out a branch that contains it), then run this again. Nothing was written`,
        'conflict',
      );
  }
  const outputs = await gitOutputs(ctx.dir);
  const { written, removed } = await writeRunFiles(ctx.dir, results.files, outputs);
  const changed = await uncommitted(ctx, [...RECORD_FILES, ...outputs]);
  const head = (await ctx.git(['rev-parse', 'HEAD'])).trim();
  const add = [...new Set([...RECORD_FILES, ...outputs].map((p) => p.split('/')[0]))].filter((p) =>
    results.files.some((f) => f.path === p || f.path.startsWith(`${p}/`)),
  );
  const lines = [
    `${model} v${v.version}: wrote the ${written.length} result files its run stored (${results.stored_at}, by ${results.stored_by}) into ${ctx.dir}` +
      (removed.length ? `; removed ${removed.length} the run did not produce (${removed.join(', ')})` : ''),
    changed.length ? `changed: ${changed.join(', ')}` : `nothing changed: HEAD already holds these results`,
  ];
  if (changed.includes('params.yaml'))
    lines.push(
      `params.yaml changed: these are the params the run used (dvc.lock records them); the next train run on this branch uses them too, so keep or restore it before committing`,
    );
  if (changed.includes('data.dvc')) {
    const data = results.files.find((f) => f.path === 'data.dvc');
    const out = data ? rawStoreOf(data.data.toString('utf8')) : null;
    lines.push(
      `data.dvc changed: the raw store is now the run's${out ? ` (${out})` : ''}, which the next train run on this branch pulls from the DVC remote and ingests onto`,
    );
  }
  // Files other than the results that changed since the commit the run's code came from.
  const since = v.git_commit
    ? (
        await ctx.git([
          'diff',
          '--name-only',
          v.git_commit,
          'HEAD',
          '--',
          '.',
          ...[...RECORD_FILES, ...outputs].map((p) => `:(exclude)${p}`),
        ])
      )
        .split('\n')
        .filter(Boolean)
    : [];
  if (since.length)
    lines.push(
      `HEAD is ${short(head)}: ${since.length} file(s) changed since ${short(v.git_commit!)}, the commit v${v.version} was trained from (${since.slice(0, 3).join(', ')}${since.length > 3 ? ', …' : ''}); dvc.lock records that commit's files, so stages depending on them show as changed (dvc status) and run again next time`,
    );
  if (changed.length)
    lines.push(
      'next:',
      `  git add ${add.join(' ')} && git commit -m ${shellQuote(`${model} v${v.version}: results of its run`)}`,
      `  git push`,
      `  npm run registry -- promote ${v.version} <stage> --reason "…"   # GTO's v${v.version}.0.0 at that commit`,
    );
  print(lines.join('\n'), {
    model,
    version: v.version,
    dir: ctx.dir,
    written,
    removed,
    changed,
    stored_at: results.stored_at,
    stored_by: results.stored_by,
  });
  return 0;
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
      git: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
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
    const takesName = command === 'list' || command === 'history' || command === 'verify' || command === 'gc';
    const named =
      (takesName ? args[0] : undefined) ??
      values.model ??
      env.MODEL_NAME ??
      (await readModelName(join(cwd, 'params.yaml')));
    const json = values.json;
    const print = (human: string, data: unknown) => write((json ? JSON.stringify(data, null, 2) : human) + '\n');
    const who = { actor: values.actor ?? (await personAtTheKeyboard(env, cwd)), source: 'cli', reason: values.reason };
    const registry = await openRegistry(url, { baseDir: cwd, log, env, storage: io.storage, clock: io.clock });
    const model = named ?? (await onlyModel(registry));
    const tags =
      command === 'history' || command === 'verify' || command === 'gc' || command === 'put-run'
        ? null
        : await openGitContext(cwd, values.git, model);
    // A registry in a bucket is the one the API serves: its tags are created and pushed before it
    // moves (publishPlan); a local one moves first and its tags are created for the user to push.
    const served = url.startsWith('gs://');
    const remote = env.TAG_REMOTE || 'origin';
    /** Before a registry change: publish the planned tags (served registry); what happened. */
    const tagsFirst = async (plan: TagPlan | null) =>
      tags && plan && served ? await publishPlan(tags, plan, remote) : null;
    /** After a registry change: the tags published first, or else create them now. */
    const tagLines = async (plan: TagPlan | null, first: string[] | null) =>
      first ?? (tags && plan ? await applyPlan(tags, plan) : []);
    /** In a git checkout, a change no tag can record is refused before the registry moves. */
    const tagged = <P extends TagPlan | null>(plan: P): P => {
      if (plan?.refused) throw new RegistryError(`refused, nothing changed: ${plan.refused}`, 'conflict');
      return plan;
    };
    const withTags = (line: string, lines: string[]) => [line, ...lines].join('\n');
    /** The tags a change stands for; with --git none none is made, and the line says so. */
    const tagNote = (names: string[] | undefined) =>
      !names?.length ? '' : values.git === 'none' ? `  (not tagged: --git none)` : `  (${names.join(' ')})`;
    switch (command) {
      case 'list': {
        const known = (await registry.listModels()).includes(model);
        // A model only GTO's tags know is listed from them; one nobody knows is the registry's error.
        const versions = known || !tags || !tags.gto.versions.length ? await registry.listVersions(model) : [];
        if (!tags) {
          print(formatVersionList(model, registry.describe(), versions), versions);
          return 0;
        }
        const only = tagOnlyVersions(tags.gto, versions);
        print(formatVersionList(model, registry.describe(), versions, { dir: tags.dir, state: tags.gto }), [
          ...versions.map((v) => ({ ...v, gto: gtoVersionOf(tags.gto, v.version) ?? null })),
          ...only.map((g) => ({ model, tag_only: true, gto: g })),
        ]);
        return 0;
      }
      case 'show': {
        const r = await resolveRef(registry, model, args[0], tags);
        if (r.kind === 'tags') {
          print(formatGtoVersion(model, r.g), { model, tag_only: true, gto: r.g });
          return 0;
        }
        const g = tags ? gtoVersionOf(tags.gto, r.v.version) : undefined;
        // GTO's vN.0.0 may be someone else's model under this version's name: say so beside it.
        const other = tags && g ? await notTheRegistrys(tags, r.v, g.commit, g.registration) : null;
        print(
          formatVersion(r.v, tags ? `${formatGtoLine(g, r.v.version)}${other ? `; but ${other}` : ''}` : undefined),
          tags ? { ...r.v, gto: g ?? null, ...(other ? { gto_conflict: other } : {}) } : r.v,
        );
        return 0;
      }
      case 'promote': {
        checkStageArg(args[1], values.force === true);
        const v = await registryRef(registry, model, args[0], tags);
        if (args[1] === 'production' && !values.force)
          await checkForProduction(registry, model, v, io.checkBundle ?? servable);
        const plan = tagged(tags ? await planAssign(tags, v, args[1], values.reason) : null);
        const first = await tagsFirst(plan);
        const change = await registry.setStage(model, args[1], v.version, {
          ...who,
          ...(plan ? { tags: plan.tags.map((t) => t.name) } : {}),
        });
        const named = tagNote(change.event?.tags);
        const lines = await tagLines(plan, first);
        print(
          withTags(
            change.changed
              ? `${model} ${change.stage}: v${change.from ?? '-'} → v${change.to}${named}`
              : `${model} ${change.stage} already at v${change.to}; nothing changed`,
            lines,
          ),
          { ...change, ...(tags ? { git: lines } : {}) },
        );
        return 0;
      }
      case 'rollback': {
        await checkStageExists(registry, model, args[0]);
        const target = tags ? await registry.rollbackTarget(model, args[0]) : null;
        const plan =
          tags && target !== null
            ? tagged(await planAssign(tags, await registry.getVersion(model, target), args[0], values.reason))
            : null;
        const first = await tagsFirst(plan);
        const change = await registry.rollback(model, args[0], {
          ...who,
          ...(plan ? { tags: plan.tags.map((t) => t.name) } : {}),
        });
        // Another writer may have moved the stage in between: then the planned tags say the wrong thing.
        const lines =
          change.to === target
            ? await tagLines(plan, first)
            : tags
              ? [
                  ...(first ?? []),
                  `${first?.length ? 'the tags above name the wrong version' : 'not tagged'}: ${args[0]} moved while rolling back; run promote ${change.to} ${args[0]} to tag it`,
                ]
              : [];
        const named = tagNote(change.event!.tags);
        print(withTags(`${model} ${change.stage} rolled back: v${change.from ?? '-'} → v${change.to}${named}`, lines), {
          ...change,
          ...(tags ? { git: lines } : {}),
        });
        return 0;
      }
      case 'demote': {
        await checkStageExists(registry, model, args[0]);
        const plan = tags ? planUnassign(tags, args[0], values.reason) : null;
        const first = await tagsFirst(plan);
        const change = await registry.demote(model, args[0], {
          ...who,
          ...(plan ? { tags: plan.tags.map((t) => t.name) } : {}),
        });
        const named = tagNote(change.event?.tags);
        const lines = await tagLines(plan, first);
        print(
          withTags(
            change.changed
              ? `${model} ${change.stage} demoted: v${change.from} → -${named}\n` +
                  `  an API serving ${change.stage} keeps serving v${change.from} (it warns that the stage is empty) until a version is assigned; stop it to stop serving`
              : `${model} ${change.stage} is already empty; nothing changed`,
            lines,
          ),
          { ...change, ...(tags ? { git: lines } : {}) },
        );
        return 0;
      }
      case 'sync-from-tags': {
        if (!tags)
          throw new RegistryError(
            `sync-from-tags follows GTO's git tags: run it in the repository's checkout (or pass --git <dir>)`,
            'invalid',
          );
        const check = io.checkBundle ?? servable;
        const report = await syncFromTags(registry, model, tags, {
          actor: values.actor,
          dryRun: values['dry-run'],
          // Production only gets a bundle that serves, whoever tagged it (--force: whatever it is).
          check: async (stage, version) =>
            stage !== 'production' || values.force
              ? null
              : await servingProblem(registry, model, await registry.getVersion(model, version), check).then((p) =>
                  p ? `v${version}'s bundle would not serve: ${p} (--force follows the tag anyway)` : null,
                ),
        });
        print(report.lines.join('\n'), report);
        // The report says what could not follow the tags.
        return report.refused.length ? 1 : 0;
      }
      case 'put-run':
        return putRun(
          registry,
          model,
          args[0],
          cwd,
          {
            actor: values.actor?.trim() || env.GITHUB_ACTOR?.trim() || env.USER?.trim() || 'unknown',
            at: io.clock?.() ?? new Date(),
          },
          print,
        );
      case 'import-run': {
        if (!tags)
          throw new RegistryError(
            `import-run writes a run's results into a git checkout: run it in the repository's checkout (or pass --git <dir>)`,
            'invalid',
          );
        return importRun(registry, model, await registryRef(registry, model, args[0], tags), tags, print);
      }
      case 'history': {
        const events = await registry.history(model);
        const git = await openGitContext(cwd, values.git, model);
        const checked = git ? git.names : values.git === 'none' ? '--git none' : 'no git checkout here';
        print(
          formatHistory(model, events, checked),
          git ? events.map((e) => ({ ...e, missing_tags: e.tags.filter((t) => !git.names.has(t)) })) : events,
        );
        return 0;
      }
      case 'gc': {
        const removed = await registry.gc(model);
        print(
          `${model}: removed ${removed.length} unused bundle(s)${removed.map((p) => '\n  ' + p).join('')}`,
          removed,
        );
        return 0;
      }
      default: {
        const report = await registry.verify(model);
        const unused = report.orphans.length
          ? `\n${report.orphans.length} stored bundle(s) no version uses (\`registry gc\` removes them):${report.orphans.map((p) => '\n  ' + p).join('')}`
          : '';
        print(
          (report.ok
            ? `${model}: ${report.versionsChecked} versions verified, history consistent`
            : `${model}: ${report.problems.length} problems\n${report.problems.map((p) => '  ' + p).join('\n')}`) +
            unused,
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
