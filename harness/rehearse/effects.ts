/**
 * What a scenario must leave behind, checked after it ran green: a run whose jobs were skipped, a
 * comment GitHub refused (and the script swallowed), a tag never pushed or an image built from the
 * wrong commit is a silent no-op, and here a failure naming the effect that is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { git, type RehearsalSandbox } from './sandbox.ts';
import { gitIn, gtoArtifactState, openRegistry, readGitTags } from '../../core/registry/index.ts';
import type { Cluster } from './stubs/kubectl.ts';
import type { Image } from './stubs/docker.ts';
import type { StubCall } from './stubs/state.ts';
import type { RunResult } from './types.ts';

const BOT = 'github-actions[bot]';

export interface EffectContext {
  sandbox: RehearsalSandbox;
  runs: RunResult[];
  calls: StubCall[];
  /** Branch heads and tags of the origin when the first workflow run started. */
  before: { heads: Record<string, string>; tags: string[] };
}

export interface Effect {
  /** What must have happened, e.g. "jobs train, publish of train.yml succeeded". */
  what: string;
  /** null when it happened, else what is missing (or `{ note }`: not expected in this rehearsal, and why). */
  check(c: EffectContext): Promise<string | null | { note: string }>;
}

const runsOf = (c: EffectContext, workflow: string) => c.runs.filter((r) => basename(r.workflow, '.yml') === workflow);

const isAncestor = (c: EffectContext, sha: string, branch: string) =>
  git(c.sandbox.origin, 'merge-base', '--is-ancestor', sha, `refs/heads/${branch}`).then(
    () => true,
    () => false,
  );

/** GitHub refusals during the scenario, for the message of a missing effect. */
function refused(c: EffectContext): string {
  const d = c.sandbox.denials;
  return d.length
    ? ` (GitHub refused: ${[...new Set(d.map((x) => `${x.method} ${x.path} by ${x.holder}: needs ${x.needs.map((n) => `${n}: ${x.level}`).join(' or ')}`))].join('; ')})`
    : '';
}

/** Every run of `workflow` ran these jobs, and they succeeded. */
export function jobsSucceed(workflow: string, jobs: string[]): Effect {
  return {
    what: `jobs ${jobs.join(', ')} of ${workflow}.yml run and succeed`,
    check: (c) => {
      const runs = runsOf(c, workflow);
      if (!runs.length) return Promise.resolve(`${workflow}.yml never ran`);
      const missing = runs.flatMap((r) =>
        jobs.flatMap((id) => {
          const j = r.jobs.find((x) => x.id === id);
          if (j?.result === 'success') return [];
          return [
            `job ${id} of run ${r.runId} ${j ? `was ${j.result === 'skipped' ? 'skipped' : 'not successful'}` : 'never ran'}`,
          ];
        }),
      );
      return Promise.resolve(missing.length ? missing.join('; ') : null);
    },
  };
}

/** No job of `workflow` ran (e.g. the bot's own commit must not retrain). */
export function noJobRuns(workflow: string): Effect {
  return {
    what: `no job of ${workflow}.yml runs`,
    check: (c) => {
      const ran = runsOf(c, workflow).flatMap((r) => r.jobs.filter((j) => j.result !== 'skipped').map((j) => j.id));
      return Promise.resolve(ran.length ? `jobs ran: ${ran.join(', ')}` : null);
    },
  };
}

/** The branch still points where it did. */
export function branchUnchanged(branch: string): Effect {
  return {
    what: `${branch} is not pushed to`,
    check: async (c) => {
      const now = await git(c.sandbox.origin, 'rev-parse', `refs/heads/${branch}`);
      return now === c.before.heads[branch]
        ? null
        : `${branch} moved ${c.before.heads[branch]?.slice(0, 8)} → ${now.slice(0, 8)}`;
    },
  };
}

/**
 * A commit by the bot pushed on top of `branch`. When `recorded` matches an npm command the
 * rehearsal recorded instead of running (REHEARSE_NPM_RECORD), the results cannot change and the
 * branch may stay where it was.
 */
export function botCommitOn(branch: string, recorded?: RegExp): Effect {
  return {
    what: `a results commit by ${BOT} pushed to ${branch}`,
    check: async (c) => {
      const now = await git(c.sandbox.origin, 'rev-parse', `refs/heads/${branch}`);
      if (now === c.before.heads[branch]) {
        const skipped =
          recorded && c.calls.some((x) => x.cmd === 'npm' && recorded.test(x.args.join(' ')) && x.recorded);
        return skipped ? null : `${branch} did not move (still ${now.slice(0, 8)})${refused(c)}`;
      }
      const author = await git(c.sandbox.origin, 'log', '-1', '--format=%an', now);
      if (author !== BOT) return `the new head of ${branch} is by ${author}, not ${BOT}`;
      return (await isAncestor(c, c.before.heads[branch], branch))
        ? null
        : `${branch} was rewritten, not fast-forwarded`;
    },
  };
}

/** New tags matching `pattern`, each on a commit of `branch`. */
export function tagsOn(branch: string, pattern: RegExp): Effect {
  return {
    what: `tags matching ${pattern} pushed, on commits of ${branch}`,
    check: async (c) => {
      const tags = (await git(c.sandbox.origin, 'tag', '--list')).split('\n').filter(Boolean);
      const added = tags.filter((t) => !c.before.tags.includes(t));
      if (!added.some((t) => pattern.test(t))) return `no tag matching ${pattern} was pushed${refused(c)}`;
      for (const t of added) {
        const sha = await git(c.sandbox.origin, 'rev-parse', `refs/tags/${t}^{commit}`);
        if (!(await isAncestor(c, sha, branch)))
          return `tag ${t} points at ${sha.slice(0, 8)}, which is not on ${branch}`;
      }
      return null;
    },
  };
}

/** One comment by the bot on a commit of `branch`. */
export function commitCommentOn(branch: string): Effect {
  return {
    what: `a commit comment by ${BOT} on a commit of ${branch}`,
    check: async (c) => {
      const mine = c.sandbox.fake.commitComments.filter((x) => x.user.login === BOT);
      if (!mine.length) return `no commit comment was posted${refused(c)}`;
      for (const m of mine)
        if (!m.commit_id || !(await isAncestor(c, m.commit_id, branch)))
          return `the comment is on ${m.commit_id?.slice(0, 8)}, which is not on ${branch}`;
      return null;
    },
  };
}

/**
 * Exactly one comment by the bot matching `marker` on every pull request of the scenario; with
 * `without`, a text it must not hold (what the report says when it missed something).
 */
export function stickyPrComment(marker: RegExp, without?: { text: RegExp; meaning: string }): Effect {
  return {
    what: `one comment by ${BOT} matching ${marker} on the pull request${without ? `, ${without.meaning}` : ''}`,
    check: (c) => {
      const prs = [...c.sandbox.fake.pulls.keys()];
      if (!prs.length) return Promise.resolve('the scenario has no pull request');
      for (const key of prs) {
        const mine = (c.sandbox.fake.issueComments.get(key) ?? []).filter(
          (x) => x.user.login === BOT && marker.test(x.body),
        );
        if (mine.length !== 1) return Promise.resolve(`${key} has ${mine.length} such comments${refused(c)}`);
        const bad = without && without.text.exec(mine[0].body);
        if (bad) return Promise.resolve(`the comment on ${key} says "${bad[0]}"`);
      }
      return Promise.resolve(null);
    },
  };
}

/** An image `repo` (…/<name>) pushed to the stand-in registry, built from the commit its run was for. */
export function imagePushed(workflow: string, name: string): Effect {
  return {
    what: `image …/${name} pushed, built from the commit ${workflow}.yml ran for`,
    check: (c) => {
      const file = join(c.sandbox.cloud, 'registry.json');
      const pushed = (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Image[]) : []).filter(
        (i) => i.repo.endsWith(`/${name}`) && i.tag !== 'previous',
      );
      if (!pushed.length) return Promise.resolve(`no …/${name} image was pushed`);
      const shas = runsOf(c, workflow).map((r) => r.sha);
      const wrong = pushed.find((i) => i.revision && !shas.includes(i.revision));
      return Promise.resolve(
        wrong
          ? `${wrong.repo}:${wrong.tag} was built from ${wrong.revision?.slice(0, 8)}, not from ${shas.map((s) => s.slice(0, 8)).join(', ')} (the commit the run is for)`
          : null,
      );
    },
  };
}

/** A deployment in the stand-in cluster runs an image the scenario's build pushed. */
export function rolledOut(name: string): Effect {
  return {
    what: `the cluster runs the …/${name} image the build pushed`,
    check: (c) => {
      const cluster = JSON.parse(readFileSync(join(c.sandbox.cloud, 'cluster.json'), 'utf8')) as Cluster;
      const registry = JSON.parse(readFileSync(join(c.sandbox.cloud, 'registry.json'), 'utf8')) as Image[];
      const built = registry.filter((i) => i.repo.endsWith(`/${name}`) && i.tag !== 'previous');
      const running = Object.entries(cluster.deployments).filter(
        ([, d]) => d.replicas > 0 && built.some((i) => d.image === `${i.repo}@${i.digest}`),
      );
      return Promise.resolve(
        running.length
          ? null
          : `no deployment with replicas runs it (${Object.entries(cluster.deployments)
              .map(([k, d]) => `${k}: ${d.image.replace(/^.*\//, '')} ×${d.replicas}`)
              .join(', ')})`,
      );
    },
  };
}

/** A recorded CLI call whose arguments match, that succeeded (terraform plan -detailed-exitcode: 0 or 2). */
export function called(cmd: string, args: RegExp): Effect {
  const ok = (x: StubCall) => (x.code ?? 0) === 0 || (x.code === 2 && x.args.includes('-detailed-exitcode'));
  return {
    what: `${cmd} ${args.source} ran`,
    check: (c) =>
      Promise.resolve(
        c.calls.some((x) => x.cmd === cmd && args.test(x.args.join(' ')) && ok(x))
          ? null
          : `no successful ${cmd} call matching ${args}`,
      ),
  };
}

/**
 * A run of `workflow` arriving while another is in progress queues behind it: runs that hold state
 * (a rollout, a terraform lock, the DVC remote ahead of dvc.lock) must not be cancelled halfway.
 */
export function queuesNotCancels(workflow: string): Effect {
  return {
    what: `a second ${workflow}.yml run queues instead of cancelling the one in progress`,
    check: (c) => {
      const runs = runsOf(c, workflow);
      const bad = runs.find((r) => !r.concurrency || r.concurrency.cancelInProgress);
      return Promise.resolve(
        bad
          ? bad.concurrency
            ? `concurrency group "${bad.concurrency.group}" has cancel-in-progress: true: the next run cancels this one halfway`
            : `${workflow}.yml has no concurrency group: two runs go at once`
          : null,
      );
    },
  };
}

/**
 * The registry the API reads (`registryUrl` of the sandbox) holds, in every stage GTO's tags on
 * the origin assign, the version `gto show` gives it: the tags are the record. Not checked when the
 * registry command was recorded instead of run (REHEARSE_NPM_RECORD).
 */
export function registryFollowsTags(model: string, registryUrl: (s: RehearsalSandbox) => string): Effect {
  return {
    what: `the registry's stages of ${model} are what GTO derives from the origin's tags`,
    check: async (c) => {
      if (c.calls.some((x) => x.cmd === 'npm' && x.args.join(' ').startsWith('run registry') && x.recorded))
        return { note: 'npm run registry was recorded, not run: the registry is not synced in this rehearsal' };
      const gto = gtoArtifactState(await readGitTags(gitIn(c.sandbox.origin)), model);
      const shown = Object.values(gto.stages);
      if (!shown.length) return `GTO's tags on the origin assign no stage of ${model}${refused(c)}`;
      const url = registryUrl(c.sandbox);
      if (!existsSync(url)) return `no registry at ${url}`;
      const stages = (await (await openRegistry(url, {})).state(model)).stages;
      const wrong = shown.filter((h) => stages[h.stage] !== h.registryVersion);
      return wrong.length
        ? wrong
            .map(
              (h) =>
                `GTO shows ${h.stage} = ${h.version} (${h.assignment.tag}) but the registry has ${stages[h.stage] ? `v${stages[h.stage]}` : 'nothing'} there`,
            )
            .join('; ')
        : null;
    },
  };
}

/** Outputs dvc.yaml marks `cache: false` (committed to git, never pushed). */
function uncachedOutputs(dvcYaml: string | null): Set<string> {
  const paths = new Set<string>();
  type Stage = Record<string, unknown[] | undefined>;
  for (const stage of Object.values((dvcYaml && (parse(dvcYaml) as { stages?: Record<string, Stage> })?.stages) ?? {}))
    for (const list of ['outs', 'metrics', 'plots'])
      for (const o of stage?.[list] ?? [])
        if (o && typeof o === 'object')
          for (const [path, opts] of Object.entries(o as Record<string, { cache?: boolean } | null>))
            if (opts?.cache === false) paths.add(path);
  return paths;
}

/** The cached `.dir` outputs (the data, the prepared splits, the model) a data.dvc or dvc.lock records. */
export function recordedDirs(
  dataDvc: string | null,
  dvcLock: string | null,
  dvcYaml: string | null = null,
): { path: string; md5: string }[] {
  const out: { path: string; md5: string }[] = [];
  const uncached = uncachedOutputs(dvcYaml);
  const add = (o: unknown) => {
    const r = o as { path?: unknown; md5?: unknown };
    if (typeof r?.md5 === 'string' && r.md5.endsWith('.dir') && !uncached.has(String(r.path)))
      out.push({ path: String(r.path), md5: r.md5 });
  };
  if (dataDvc) for (const o of (parse(dataDvc) as { outs?: unknown[] })?.outs ?? []) add(o);
  if (dvcLock)
    for (const stage of Object.values(
      (parse(dvcLock) as { stages?: Record<string, { outs?: unknown[] }> })?.stages ?? {},
    ))
      for (const o of stage?.outs ?? []) add(o);
  return out;
}

/**
 * The DVC remote holds every directory (and each file in it) the results commit on `branch`
 * records: a commit whose data nobody pushed makes every later clone and CI run rebuild or fail.
 */
export function dvcRemoteHolds(branch: string, remote: (s: RehearsalSandbox) => string): Effect {
  return {
    what: `the DVC remote holds the data and outputs the results commit on ${branch} records`,
    check: async (c) => {
      const now = await git(c.sandbox.origin, 'rev-parse', `refs/heads/${branch}`);
      // Nothing committed (the pipeline recorded, or nothing changed): the push must still have run.
      if (now === c.before.heads[branch])
        return c.calls.some((x) => x.cmd === 'dvc' && x.args[0] === 'push' && (x.code ?? 0) === 0)
          ? null
          : `no \`dvc push\` ran: a results commit would record data and outputs nobody can pull`;
      const show = (file: string) => git(c.sandbox.origin, 'show', `${now}:${file}`).catch(() => null);
      const dirs = recordedDirs(await show('data.dvc'), await show('dvc.lock'), await show('dvc.yaml'));
      const objectPath = (md5: string) => join(remote(c.sandbox), 'files', 'md5', md5.slice(0, 2), md5.slice(2));
      const missing: string[] = [];
      for (const d of dirs) {
        const listing = objectPath(d.md5);
        if (!existsSync(listing)) {
          missing.push(`${d.path} (${d.md5})`);
          continue;
        }
        const entries = JSON.parse(readFileSync(listing, 'utf8')) as { md5: string; relpath: string }[];
        const absent = entries.filter((e) => !existsSync(objectPath(e.md5)));
        if (absent.length) missing.push(`${d.path}: ${absent.length} of its ${entries.length} files`);
      }
      return missing.length
        ? `the results commit ${now.slice(0, 8)} records what the DVC remote lacks: ${missing.join('; ')} (was \`dvc push\` run?)`
        : null;
    },
  };
}
