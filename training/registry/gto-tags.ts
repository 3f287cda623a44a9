/**
 * The registry CLI's side of GTO: read the checkout's git tags (GTO's view of a model, by
 * core/registry/gto-state.ts) and plan the tags a stage change needs, as `gto assign` /
 * `gto unassign` would make them: GTO's counter (highest on any tag of the model + 1), at the
 * commit the version is registered at, annotated with GTO's message. Pushing stays the user's (or
 * CI's) step: the CLI prints the `git push` command.
 */
import {
  createAnnotatedTag,
  isAncestor,
  otherVersionAt,
  gitIn,
  gitWorkTree,
  pushCommand,
  readGitTags,
  shellQuote,
  resolveCommit,
  type Git,
} from '../../core/registry/gto-git.ts';
import { gtoArtifactState, gtoTagMessage, type GtoArtifact, type GtoEvent } from '../../core/registry/gto-state.ts';
import type { VersionInfo } from '../../core/registry/index.ts';
import { artifactMd5In } from './run-results.ts';

export interface GitContext {
  /** The work tree whose tags are read (and where tags are created). */
  dir: string;
  git: Git;
  model: string;
  gto: GtoArtifact;
  /** Every tag name of the repository (a new tag must not reuse one). */
  names: Set<string>;
  /** Tagger time (Unix seconds) of this model's newest annotated tag; 0 when it has none. */
  newestTagTime: number;
}

/** How long to wait at most for the clock to pass a tag time (a tagger clock ahead of ours). */
const MAX_TAG_WAIT_MS = 2_000;

/**
 * GTO orders a model's events by tagger time in whole seconds: a tag made in the same second as
 * the model's newest one may sort before it, and then `gto show` (and sync-from-tags) reads the
 * older assignment as the current one. Wait for the next second before tagging.
 */
export async function afterNewestTag(ctx: GitContext, now: () => number = Date.now): Promise<void> {
  const until = (ctx.newestTagTime + 1) * 1000;
  const wait = until - now();
  if (wait > 0 && wait <= MAX_TAG_WAIT_MS) await new Promise((r) => setTimeout(r, wait + 5));
}

/**
 * GTO's view of `model` from the git checkout holding `cwd` (or `repo`); null when there is none or
 * `repo` is `none`.
 */
export async function openGitContext(cwd: string, repo: string | undefined, model: string): Promise<GitContext | null> {
  if (repo === 'none') return null;
  const dir = await gitWorkTree(repo ?? cwd);
  if (!dir) {
    if (repo !== undefined) throw new Error(`--git ${repo}: not inside a git work tree`);
    return null;
  }
  const git = gitIn(dir);
  const tags = await readGitTags(git);
  const own = tags.filter((t) => t.annotated && (t.name.startsWith(`${model}@`) || t.name.startsWith(`${model}#`)));
  return {
    dir,
    git,
    model,
    gto: gtoArtifactState(tags, model),
    names: new Set(tags.map((t) => t.name)),
    newestTagTime: own.reduce((m, t) => Math.max(m, t.time), 0),
  };
}

export interface PlannedTag {
  name: string;
  commit: string;
  message: string;
}

export interface TagPlan {
  tags: PlannedTag[];
  /** What was not tagged, and why (printed). */
  notes: string[];
  /**
   * Why no tag can say what the registry change would: the change is refused (the registry would
   * hold a stage no tag records), with the fix.
   */
  refused?: string;
}

const short = (sha: string) => sha.slice(0, 12);

/**
 * A run outside any checkout (the trainer Job) has no results commit until someone imports its
 * stored results: what the refusal says a person can do.
 */
const outsideGit =
  'A version the trainer Job trained gets that commit from the results the Job stored beside it: registry -- import-run <N> ' +
  'writes them into this checkout, then commit them and run this again; without them only the registry can serve it (--git none), ' +
  'and only until the next registry sync-from-tags (registry-sync.yml on any pushed GTO tag, the train workflow after each successful run)';
export const gtoTime = (seconds: number) =>
  new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
export const describeTag = (e: GtoEvent) => `tag ${e.tag}${e.by ? ` by ${e.by}` : ''} on ${gtoTime(e.time)}`;

/**
 * Why GTO's `vN.0.0` (registered at `commit`) is not the registry's version N, or null: its tag sits
 * before the commit the registry's N was trained at, so it is another model under the same name.
 */
export async function notTheRegistrys(
  ctx: GitContext,
  v: VersionInfo,
  commit: string,
  registration: GtoEvent | null,
): Promise<string | null> {
  if (!v.git_commit || (await isAncestor(ctx.git, v.git_commit, commit)) !== false) return null;
  const tag = `${ctx.model}@v${v.version}.0.0`;
  return (
    `GTO's v${v.version}.0.0 (${registration ? describeTag(registration) : `tag ${tag}`}, at ${short(commit)}) is not the registry's v${v.version}, ` +
    `trained at ${short(v.git_commit)}: the tag is not on or after that commit, so they are two models under one name. ` +
    `GTO versions vN.0.0 belong to the registry: if that tag is a mistake, delete it (git tag -d ${shellQuote(tag)} && git push origin ${shellQuote(`:refs/tags/${tag}`)}) and run this again; register other versions with GTO as minor or patch versions`
  );
}

/** A fresh counter for each planned tag (GTO's rule; names already taken are skipped). */
function counterFrom(ctx: GitContext): (stage: string, cancel: boolean) => string {
  let counter = ctx.gto.nextCounter;
  const taken = new Set(ctx.names);
  return (stage, cancel) => {
    let name: string;
    do name = `${ctx.model}#${stage}${cancel ? '!' : ''}#${counter++}`;
    while (taken.has(name));
    taken.add(name);
    return name;
  };
}

const body = (reason: string | undefined) => (reason?.trim() ? `\n\n${reason.trim()}` : '');

/**
 * The tags that make GTO show `stage` = registry version `v`: an assignment at the commit GTO has
 * for `vN.0.0`; when GTO has none, a registration at the version's `git_commit` first (as
 * `gto assign --ref` registers), if this repository has that commit.
 */
export async function planAssign(
  ctx: GitContext,
  v: VersionInfo,
  stage: string,
  reason: string | undefined,
): Promise<TagPlan> {
  const version = `v${v.version}.0.0`;
  const shown = ctx.gto.stages[stage];
  if (shown?.version === version)
    return {
      tags: [],
      notes: [`GTO already shows ${stage} = ${version} (${describeTag(shown.assignment)}): no tag needed`],
    };
  const known = ctx.gto.versions.find((x) => x.version === version && x.registered);
  const tags: PlannedTag[] = [];
  let commit = known?.commit ?? null;
  const undo = `or run with --git none to change the registry alone (registry -- sync-from-tags then puts it back to what the tags say)`;
  if (known && !known.active)
    return {
      tags: [],
      notes: [],
      refused: `GTO deregistered ${version} (${describeTag(known.events.at(-1)!)}), so no tag can assign it to ${stage}: register it again with gto, or promote another version; ${undo}`,
    };
  const other = known ? await notTheRegistrys(ctx, v, known.commit, known.registration) : null;
  if (other) return { tags: [], notes: [], refused: `${other}; ${undo}` };
  if (!known) {
    const name = `${ctx.model}@${version}`;
    commit = v.git_commit ? await resolveCommit(ctx.git, v.git_commit) : await firstRecording(ctx, v);
    const results = commit && v.git_commit ? await resultsCommit(ctx, v, commit) : null;
    if (results && 'refused' in results) return { tags: [], notes: [], refused: `${results.refused}; ${undo}` };
    if (results) commit = results.commit;
    if (!commit || ctx.names.has(name))
      return {
        tags: [],
        notes: [],
        refused: ctx.names.has(name)
          ? `${name} exists but GTO does not read it (a lightweight tag?): replace it with an annotated one (git tag -d ${shellQuote(name)} && git tag -a ${shellQuote(name)} -m ${shellQuote(gtoTagMessage('register', ctx.model, { version }))} <commit>) and run this again; ${undo}`
          : v.git_commit
            ? `GTO has no ${version} (no tag ${name}) and the registry's v${v.version} names commit ${v.git_commit}, which this repository does not have (git fetch it): tag the commit that produced it (git tag -a ${shellQuote(name)} -m ${shellQuote(gtoTagMessage('register', ctx.model, { version }))} <commit>) and run this again; ${undo}`
            : `GTO has no ${version} (no tag ${name}) and the registry's v${v.version} names no commit (trained outside a git checkout: a trainer Job image built without SOURCE_COMMIT), and no commit in HEAD's history has a dvc.lock that records its bundle ${v.bundle.md5} (GTO's version is the model its commit's dvc.lock records: \`dvc artifacts get\` downloads that). ${outsideGit}; ${undo}`,
      };
  }
  const clash = otherVersionAt(ctx.gto, commit!, version);
  if (clash)
    return {
      tags: [],
      notes: [],
      refused: `${clash}; ${undo}`,
    };
  if (!known) {
    const name = `${ctx.model}@${version}`;
    tags.push({ name, commit: commit!, message: gtoTagMessage('register', ctx.model, { version }) + body(reason) });
  }
  const next = counterFrom(ctx);
  tags.push({
    name: next(stage, false),
    commit: commit!,
    message: gtoTagMessage('assign', ctx.model, { stage, version }) + body(reason),
  });
  return { tags, notes: [] };
}

/** What `commit`'s dvc.lock records for `model`'s artifact path (dvc.yaml `artifacts`); null when it records nothing. */
async function artifactMd5At(ctx: GitContext, commit: string): Promise<string | null> {
  const show = (file: string) => ctx.git(['show', `${commit}:${file}`]).catch(() => null);
  const [yaml, lock] = await Promise.all([show('dvc.yaml'), show('dvc.lock')]);
  return yaml === null || lock === null ? null : artifactMd5In(yaml, lock, ctx.model);
}

/**
 * For a version that names no commit (an image built without SOURCE_COMMIT): the first commit in
 * HEAD's history whose dvc.lock records its bundle (an imported run's results commit), or null.
 */
async function firstRecording(ctx: GitContext, v: VersionInfo): Promise<string | null> {
  const commits = await ctx.git(['log', '--reverse', '--format=%H', 'HEAD', '--', 'dvc.lock']).catch(() => '');
  for (const commit of commits.split('\n').filter(Boolean))
    if ((await artifactMd5At(ctx, commit)) === v.bundle.md5) return commit;
  return null;
}

/**
 * Where GTO's registration of `v` belongs: GTO's version at a commit is the model that commit's
 * dvc.lock records (what `dvc artifacts get` downloads), and a run outside CI registers at the commit
 * it started from, before its dvc.lock is committed. So unless `from`'s dvc.lock records `v`'s bundle,
 * the first later commit up to HEAD that records it; when none does yet, refused if `from` records
 * another model. Null (tag `from`) when `from` records this one, or records no model for this name
 * and no later commit records `v`.
 */
async function resultsCommit(
  ctx: GitContext,
  v: VersionInfo,
  from: string,
): Promise<{ commit: string } | { refused: string } | null> {
  const recorded = await artifactMd5At(ctx, from);
  if (recorded === v.bundle.md5) return null;
  const later = await ctx.git(['rev-list', '--reverse', '--ancestry-path', `${from}..HEAD`]).catch(() => '');
  for (const commit of later.split('\n').filter(Boolean))
    if ((await artifactMd5At(ctx, commit)) === v.bundle.md5) return { commit };
  if (recorded === null) return null;
  return {
    refused:
      `the registry's v${v.version} (bundle ${v.bundle.md5}) was trained at ${short(from)}, whose dvc.lock records another model (${recorded}), ` +
      `and no later commit up to HEAD records it: GTO's v${v.version}.0.0 there would name that other model (\`dvc artifacts get\` downloads it). ` +
      `Commit the run's results first (git add dvc.lock data.dvc metrics && git commit -m "…") and run this again. ${outsideGit}`,
  };
}

/** The tags that make GTO show no version in `stage`: an unassignment of every version it has there. */
export function planUnassign(ctx: GitContext, stage: string, reason: string | undefined): TagPlan {
  const versions = ctx.gto.inStage[stage] ?? [];
  if (!versions.length) return { tags: [], notes: [`GTO shows no version in ${stage}: no tag needed`] };
  const next = counterFrom(ctx);
  return {
    tags: versions.map((version) => ({
      name: next(stage, true),
      commit: ctx.gto.versions.find((x) => x.version === version)?.commit ?? version,
      message: gtoTagMessage('unassign', ctx.model, { stage, version }) + body(reason),
    })),
    notes: [],
  };
}

/** Create the planned tags (annotated, in order) and say what to push. */
export async function applyPlan(ctx: GitContext, plan: TagPlan): Promise<string[]> {
  const lines: string[] = [...plan.notes];
  if (plan.tags.length) await afterNewestTag(ctx);
  for (const [i, t] of plan.tags.entries()) {
    try {
      await createAnnotatedTag(ctx.git, t.name, t.commit, t.message);
    } catch (err) {
      const left = plan.tags
        .slice(i)
        .map((x) => `git tag -a ${shellQuote(x.name)} -m ${shellQuote(x.message.split('\n')[0])} ${x.commit}`);
      throw new Error(
        `the registry changed, but creating tag ${t.name} in ${ctx.dir} failed: ${(err as Error).message.trim()}; ${lines.length ? `${lines.join('; ')}; ` : ''}create the rest yourself: ${left.join(' && ')}`,
        { cause: err },
      );
    }
    lines.push(`created tag ${t.name} at ${short(t.commit)} in ${ctx.dir}`);
  }
  if (plan.tags.length)
    lines.push(
      `push to publish: ${pushCommand(
        'origin',
        plan.tags.map((t) => t.name),
      )}`,
    );
  return lines;
}

/**
 * For the registry the API serves (a bucket), the tags go first: create the planned tags and push
 * them to `remote` before the registry moves, so the API never serves a stage no published tag
 * records. When the push fails the created tags are deleted again and the error says nothing
 * changed.
 */
export async function publishPlan(ctx: GitContext, plan: TagPlan, remote: string): Promise<string[]> {
  const lines: string[] = [...plan.notes];
  const made: string[] = [];
  const undo = async () => {
    for (const name of made) await ctx.git(['tag', '-d', name]).catch(() => undefined);
  };
  try {
    if (plan.tags.length) await afterNewestTag(ctx);
    for (const t of plan.tags) {
      await createAnnotatedTag(ctx.git, t.name, t.commit, t.message);
      made.push(t.name);
      lines.push(`created tag ${t.name} at ${short(t.commit)} in ${ctx.dir}`);
    }
    if (made.length) await ctx.git(['push', remote, ...made.map((n) => `refs/tags/${n}`)]);
  } catch (err) {
    await undo();
    throw new Error(
      `${made.length === plan.tags.length ? `pushing ${made.join(' ')} to ${remote}` : `creating the tags in ${ctx.dir}`} failed: ${(err as Error).message.trim()}; ` +
        `nothing changed (the registry did not move, and the tags created here were deleted). Fix that and run this again, ` +
        `or run with --git none to change the registry alone (the next registry sync-from-tags puts it back to what the tags say)`,
      { cause: err },
    );
  }
  if (made.length) lines.push(`pushed ${made.join(' ')} to ${remote}`);
  return lines;
}
