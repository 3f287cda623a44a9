/**
 * `npm run gh:tag`: publish this run's registry decision (`metrics/register.json`) as GTO git
 * tags, so that `gto show` says what the registry says, and push them.
 *
 * GTO's rules decide (core/registry/gto-state.ts, over every tag of the repository: the publish
 * job checks out with fetch-depth 0, and tags pushed since are fetched first):
 * - A register tag (`<name>@v<N>.0.0`) that exists already is checked, not assumed: at the commit
 *   this run tags, it is skipped; at another commit it is someone else's `v<N>.0.0` and the run
 *   fails before creating anything, naming both commits.
 * - An assignment gets GTO's counter (the highest on any tag of the model + 1), not the registry's
 *   (register.json's `<name>#<stage>#<K>` says which stage; `stage_changes` which version), at the
 *   commit its version is registered at, as `gto assign` does. When GTO already shows the stage at
 *   that version, nothing is tagged.
 * - When GTO shows the stage at another version than the registry held before this run (a person
 *   assigned it with `gto`, or unassigned it), the assignment is refused with the ways to settle
 *   it (`npm run registry -- sync-from-tags`, or `--override`); the register tag is still made.
 * Tags this run made or checked that the remote lacks are pushed (a rerun finishes a failed push).
 *
 * Env: TAG_REMOTE (origin; `none` = create locally only), TAG_TARGET (HEAD), REGISTER_JSON
 * (metrics/register.json).
 */
import { resolve } from 'node:path';
import { parseGtoTag } from '../../core/registry/gto.ts';
import {
  gtoArtifactState,
  gtoTagMessage,
  parseGtoTagName,
  type GitTagRef,
  type GtoArtifact,
} from '../../core/registry/gto-state.ts';
import {
  createAnnotatedTag,
  otherVersionAt,
  readGitTags,
  resolveCommit,
  type Git,
} from '../../core/registry/gto-git.ts';
import { execRunner } from './exec.ts';
import type { Runner } from './metrics-diff.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { defineCli } from '../../core/platform/cli.ts';
import { REGISTER_METRICS, readMetrics, type RegisterFile } from '../../core/schemas/metrics-files.ts';

export interface TagOptions {
  cwd: string;
  run: Runner;
  registerPath?: string;
  /** null: do not look at or push to a remote. */
  remote?: string | null;
  target?: string;
  print?: (line: string) => void;
  /** Tag this run's stage assignments even where GTO's tags disagree with the registry. */
  override?: boolean;
}

export interface TagResult {
  created: string[];
  skipped: string[];
  pushed: string[];
  /** Why a stage assignment was not tagged (the run then fails). */
  refused: string[];
}

const BOT_IDENTITY = [
  '-c',
  'user.name=github-actions[bot]',
  '-c',
  'user.email=41898282+github-actions[bot]@users.noreply.github.com',
];

const short = (sha: string) => sha.slice(0, 12);
const when = (seconds: number) =>
  new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
const byWhom = (t: GitTagRef | undefined) =>
  (t?.tagger ? ` by ${t.tagger}` : '') + (t?.annotated ? ` on ${when(t.time)}` : '');

/** `refs/tags/<name>` → the commit it points at, as `git ls-remote --tags` reports it. */
function remoteTagCommits(lsRemote: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lsRemote.split('\n')) {
    const [sha, ref] = line.trim().split('\t');
    if (!ref?.startsWith('refs/tags/')) continue;
    const name = ref.slice('refs/tags/'.length);
    // An annotated tag is listed twice: its object, then `^{}` with the commit; keep the commit.
    if (name.endsWith('^{}')) out.set(name.slice(0, -3), sha);
    else if (!out.has(name)) out.set(name, sha);
  }
  return out;
}

/** The registry's version before this run at `stage`, as register.json records it; undefined if it does not say. */
function registryBefore(reg: RegisterFile, stage: string): number | null | undefined {
  const change = reg.stage_changes[stage];
  if (change) return change.from;
  if (stage === 'production') return reg.production_before?.version ?? null;
  return undefined;
}

function describeGto(state: GtoArtifact, stage: string): string {
  const h = state.stages[stage];
  if (h)
    return `GTO says ${stage} = ${h.version} (tag ${h.assignment.tag}${h.assignment.by ? ` by ${h.assignment.by}` : ''} on ${when(h.assignment.time)})`;
  const last = [...state.events].reverse().find((e) => e.stage === stage);
  return `GTO says no version is in ${stage} (${last ? `tag ${last.tag}${last.by ? ` by ${last.by}` : ''} on ${when(last.time)}` : 'no tag'})`;
}

export async function createGtoTags(o: TagOptions): Promise<TagResult> {
  const print = o.print ?? console.log;
  const remote = o.remote === undefined ? 'origin' : o.remote;
  const path = resolve(o.cwd, o.registerPath ?? REGISTER_METRICS);
  const reg = await readMetrics('register', { file: path });
  if (!reg) throw new Error(`${path} does not exist; run the register stage (npm run pipeline -- register) first`);
  const wanted = reg.gto_tags.map((t) => {
    const parsed = parseGtoTag(t);
    if (!parsed)
      throw new Error(
        `${path}: gto_tags holds ${JSON.stringify(t)}, which is not a tag this registry makes (<name>@v<N>.0.0 or <name>#<stage>#<K>)`,
      );
    return { tag: t, parsed };
  });
  const result: TagResult = { created: [], skipped: [], pushed: [], refused: [] };
  if (!wanted.length) {
    print('register.json has no gto_tags: nothing to tag');
    return result;
  }
  const model = reg.model_name;
  const git: Git = (args) => o.run('git', args, { cwd: o.cwd });

  // Every tag of the repository, with those pushed since the checkout fetched first.
  let onRemote = new Map<string, string>();
  if (remote) {
    onRemote = remoteTagCommits(await git(['ls-remote', '--tags', remote]));
    const local = new Set((await readGitTags(git)).map((t) => t.name));
    const missing = [...onRemote.keys()].filter((t) => !local.has(t) && parseGtoTagName(t)?.artifact === model);
    if (missing.length) {
      await git(['fetch', '--quiet', '--no-tags', remote, ...missing.map((t) => `refs/tags/${t}:refs/tags/${t}`)]);
      print(`fetched ${missing.length} tag(s) of ${model} pushed since the checkout: ${missing.join(' ')}`);
    }
  }
  const tags = await readGitTags(git);
  const byName = new Map(tags.map((t) => [t.name, t]));
  const diverged = [...onRemote].filter(
    ([name, sha]) => parseGtoTagName(name)?.artifact === model && byName.has(name) && byName.get(name)!.target !== sha,
  );
  if (diverged.length)
    throw new Error(
      diverged
        .map(
          ([name, sha]) =>
            `tag ${name} points at ${short(byName.get(name)!.target)} here but at ${short(sha)} on ${remote}: delete the local one (git tag -d '${name}') and run again`,
        )
        .join('\n'),
    );
  const rev = o.target ?? 'HEAD';
  const target = await resolveCommit(git, rev);
  if (!target) throw new Error(`TAG_TARGET ${rev} is not a commit of this repository`);
  const state = gtoArtifactState(tags, model);
  for (const p of state.problems) print(`warning: ${p}`);
  const decision = `${model} v${reg.version}: ${reg.decision}\n\n${reg.reason}`.trim();

  // 1. Register (and deregister) tags: verified against what exists before anything is created.
  const conflicts: string[] = [];
  const toCreate: { tag: string; commit: string; message: string }[] = [];
  const ours: string[] = [];
  for (const { tag, parsed } of wanted) {
    if (parsed.action !== 'register' && parsed.action !== 'deregister') continue;
    const existing = byName.get(tag);
    const gtoVersion = `v${parsed.version}.0.0`;
    const commit =
      parsed.action === 'register'
        ? target
        : (state.versions.find((v) => v.version === gtoVersion && v.registered)?.commit ?? target);
    if (existing && existing.target === commit) {
      result.skipped.push(tag);
      ours.push(tag);
      print(`tag ${tag} exists at ${short(commit)}, the commit this run tags: skipped`);
    } else if (existing) {
      conflicts.push(
        `tag ${tag} already exists at ${short(existing.target)}${byWhom(existing)}${existing.message ? ` ("${existing.message.split('\n')[0]}")` : ''}, ` +
          `but this run's registry v${parsed.version} is at ${short(commit)}: GTO's ${gtoVersion} and the registry's v${parsed.version} are different models under one name. ` +
          `If that tag is a mistake, delete it (git push ${remote ?? 'origin'} ':refs/tags/${tag}' && git tag -d '${tag}') and run this again; ` +
          `GTO versions vN.0.0 belong to the registry (docs/registry.md): register other versions with GTO as minor or patch versions (e.g. v${parsed.version - 1 || 1}.1.0).`,
      );
    } else if (parsed.action === 'register' && otherVersionAt(state, commit, gtoVersion)) {
      conflicts.push(`${tag} not created: ${otherVersionAt(state, commit, gtoVersion)}`);
    } else {
      toCreate.push({
        tag,
        commit,
        message: `${gtoTagMessage(parsed.action, model, { version: gtoVersion })}\n\n${decision}`,
      });
    }
  }
  if (conflicts.length) throw new Error(conflicts.join('\n'));

  // 2. Stage tags: what GTO shows now decides whether (and with which counter) to tag.
  let counter = state.nextCounter;
  const taken = new Set(tags.map((t) => t.name));
  const nextName = (stage: string, cancel: boolean) => {
    let name: string;
    do name = `${model}#${stage}${cancel ? '!' : ''}#${counter++}`;
    while (taken.has(name));
    taken.add(name);
    return name;
  };
  const registeringNow = new Set(toCreate.filter((c) => parseGtoTag(c.tag)?.action === 'register').map((c) => c.tag));
  for (const { tag, parsed } of wanted) {
    if (parsed.action !== 'assign' && parsed.action !== 'unassign') continue;
    const stage = parsed.stage;
    const holder = state.stages[stage];
    if (parsed.action === 'unassign') {
      if (!holder) {
        result.skipped.push(tag);
        print(`${describeGto(state, stage)}: nothing to unassign, ${tag} not needed`);
        continue;
      }
      // An unassignment removes one version: GTO shows the stage empty once each is unassigned.
      for (const version of state.inStage[stage] ?? [])
        toCreate.push({
          tag: nextName(stage, true),
          commit: state.versions.find((v) => v.version === version)?.commit ?? version,
          message: `${gtoTagMessage('unassign', model, { stage, version })}\n\n${decision}`,
        });
      continue;
    }
    const version = reg.stage_changes[stage]?.to ?? reg.version;
    const gtoVersion = `v${version}.0.0`;
    if (holder?.version === gtoVersion) {
      result.skipped.push(tag);
      ours.push(holder.assignment.tag);
      print(`${describeGto(state, stage)} already: ${tag} not needed`);
      continue;
    }
    const before = registryBefore(reg, stage);
    const agrees =
      before === undefined ||
      !state.stagesTagged.includes(stage) ||
      (holder ? holder.registryVersion !== null && holder.registryVersion === before : before === null);
    if (before === undefined) print(`register.json does not say what ${stage} held before: not checked against GTO`);
    if (!agrees) {
      const registry = reg.registry ? ` --registry ${reg.registry}` : '';
      const problem =
        `${describeGto(state, stage)} but the registry had ${before === null ? 'no version' : `v${before}`} there before this run moved it to v${version}: ` +
        `the stage was changed with GTO since. Not tagged: ${stage} = ${gtoVersion}. ` +
        `To let the tags rule, run \`npm run registry -- sync-from-tags${registry}\` (the registry then follows GTO); ` +
        `to keep this run's decision, run \`npm run gh:tag -- --override\` at ${short(target)} (GTO then shows ${stage} = ${gtoVersion}).`;
      if (!o.override) {
        result.refused.push(problem);
        continue;
      }
      print(`--override: ${describeGto(state, stage)}; tagging this run's ${stage} = ${gtoVersion} over it`);
    }
    const registered = registeringNow.has(`${model}@${gtoVersion}`)
      ? target
      : state.versions.find((v) => v.version === gtoVersion && v.registered)?.commit;
    const known = state.versions.find((v) => v.version === gtoVersion && v.registered);
    if (!registered || (known && !known.active && !registeringNow.has(`${model}@${gtoVersion}`))) {
      result.refused.push(
        known
          ? `GTO deregistered ${gtoVersion} (${known.events.at(-1)?.tag}): ${stage} = ${gtoVersion} is not tagged; register it again with GTO or promote another version`
          : `GTO has no ${gtoVersion} (no tag ${model}@${gtoVersion}), so ${stage} = ${gtoVersion} cannot be tagged: an assignment points at its version's commit. Tag the commit that registered v${version} (git tag -a '${model}@${gtoVersion}' -m '${gtoTagMessage('register', model, { version: gtoVersion })}' <commit>) and run this again`,
      );
      continue;
    }
    const clash = otherVersionAt(state, registered, gtoVersion);
    if (clash) {
      result.refused.push(`${stage} = ${gtoVersion} is not tagged: ${clash}`);
      continue;
    }
    const name = nextName(stage, false);
    if (name !== tag) print(`${tag} in register.json is the registry's counter; GTO's counter makes it ${name}`);
    toCreate.push({
      tag: name,
      commit: registered,
      message: `${gtoTagMessage('assign', model, { stage, version: gtoVersion })}\n\n${decision}`,
    });
  }

  for (const c of toCreate) {
    await createAnnotatedTag(git, c.tag, c.commit, c.message, BOT_IDENTITY);
    result.created.push(c.tag);
    print(`created tag ${c.tag} at ${short(c.commit)}`);
  }
  // Also push tags an earlier run created but failed to push.
  const toPush = remote ? [...new Set([...result.created, ...ours])].filter((t) => !onRemote.has(t)) : [];
  if (toPush.length) {
    await git(['push', remote!, ...toPush.map((t) => `refs/tags/${t}`)]);
    result.pushed = toPush;
    print(`pushed ${toPush.join(' ')} to ${remote}`);
  }
  for (const r of result.refused) print(`refused: ${r}`);
  return result;
}

const USAGE = `usage: npm run gh:tag [-- --override]
  publish this run's registry decision (metrics/register.json) as annotated GTO git tags and push
  them. An existing register tag at the same commit is skipped, at another commit it fails the run;
  stage tags take GTO's counter and are refused when GTO shows the stage at another version than
  the registry held (someone changed it with gto): --override tags this run's decision anyway
env: TAG_REMOTE (origin; none = create locally only), TAG_TARGET (HEAD), REGISTER_JSON (metrics/register.json)
exit: 0 tagged (or nothing to tag), 1 failed or a stage assignment refused, 2 usage error`;

if (isMain(import.meta.url)) {
  await defineCli(
    { name: 'gh:tag', usage: USAGE, options: { override: { type: 'boolean', default: false } } },
    async ({ values }, io) => {
      const remote = process.env.TAG_REMOTE === 'none' ? null : process.env.TAG_REMOTE || 'origin';
      const r = await createGtoTags({
        cwd: process.cwd(),
        run: execRunner,
        remote,
        target: process.env.TAG_TARGET || undefined,
        registerPath: process.env.REGISTER_JSON || undefined,
        print: (line) => io.stdout(line + '\n'),
        override: values.override,
      });
      if (r.refused.length) {
        io.stderr(`gh:tag: ${r.refused.length} stage assignment(s) not tagged (see "refused:" above)\n`);
        return 1;
      }
      return 0;
    },
  ).main();
}
