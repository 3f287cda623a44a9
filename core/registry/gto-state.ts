/**
 * GTO's rules, as GTO 1.10 applies them, over a plain list of git tags: which tag names it reads,
 * what each means, and the registry state `gto show` derives from them. Pure: the caller lists the
 * tags (gto-git.ts reads them from a repository) and gets GTO's view back, so the CLI, `gh:tag`
 * and the tests share one implementation of the rules instead of each guessing them.
 *
 * Tag grammar (gto/constants.py `tag_re`): `<artifact>@v<semver>` register, `…@v<semver>!`
 * deregister, `<artifact>#<stage>` assign, `…#<stage>!` unassign, `<artifact>@deprecated`
 * deprecate (and `@created`, which GTO parses but never acts on); any of them may end in
 * `#<counter>`. An artifact name may carry a `<dir>=` prefix (GTO shows it as `<dir>:`).
 *
 * How GTO resolves them (gto/tag.py, gto/base.py):
 * - Only annotated tags are events; lightweight ones are ignored (but still count for the counter).
 *   Tags are read in name order, then stably sorted by tagger time (whole seconds); all
 *   deprecations, then all (de)registrations, then all (un)assignments are applied in that order.
 * - A (de)registration belongs to the version of that name at the tag's commit. An (un)assignment
 *   belongs to the registered version at the commit the tag points at; a commit without one
 *   becomes an unregistered version named by the commit's hash (one per such tag).
 * - A version is active when its latest (de)registration is a registration; a deregistered
 *   version and its stages disappear from `gto show`. A version is in a stage when the latest
 *   assign/unassign tag of that version and stage is an assignment: an unassignment removes only
 *   that version, so an earlier version still assigned there shows again.
 * - The version `gto show` gives a stage: among active versions in that stage, the one whose
 *   latest assignment is the most recent (`--sort timestamp`, the default); with `--sort semver`
 *   (also what `gto.api.find_versions_in_stage` uses), the highest version in that stage.
 * - An artifact whose most recent event is a deprecation is hidden (deprecated).
 * - The next counter (`gto assign` / `unassign` name their tag `<artifact>#<stage>#<N>`): one
 *   more than the highest counter on any tag of that artifact, lightweight tags included.
 * Ties in time are broken as GTO's stable sorts break them (reproduced below, not simplified).
 */

/** GTO's name part (constants.py `name`) and the semver it accepts after `@v`. */
const GTO_NAME = '[a-zA-Z0-9](?:[a-zA-Z0-9-/_]*[a-zA-Z0-9])?';
const SEMVER_ID = '(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)';
const SEMVER = `(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)(?:-${SEMVER_ID}(?:\\.${SEMVER_ID})*)?(?:\\+[0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*)?`;
const GTO_TAG = new RegExp(
  `^((?:[a-zA-Z0-9-_./]+=)?${GTO_NAME})(?:(?:#(${GTO_NAME})|@(v${SEMVER}))(!?)|@(deprecated|created))(?:#([0-9]+))?$`,
);
const SEMVER_RE = new RegExp(`^v${SEMVER}$`);

export type GtoAction = 'register' | 'deregister' | 'assign' | 'unassign' | 'deprecate' | 'create';

/** A tag name as GTO parses it (gto/tag.py `parse_name`). */
export interface GtoTagName {
  tag: string;
  /** GTO's artifact name: a `dir=` prefix in the tag reads `dir:`. */
  artifact: string;
  action: GtoAction;
  version?: string;
  stage?: string;
  counter?: number;
}

/** Parse any tag GTO reads; null for a tag GTO ignores. */
export function parseGtoTagName(tag: string): GtoTagName | null {
  const m = GTO_TAG.exec(tag);
  if (!m) return null;
  const [, artifact, stage, version, cancel, special, counter] = m;
  const parsed: GtoTagName = {
    tag,
    artifact: artifact.replace('=', ':'),
    action:
      special === 'deprecated'
        ? 'deprecate'
        : special === 'created'
          ? 'create'
          : version !== undefined
            ? cancel
              ? 'deregister'
              : 'register'
            : cancel
              ? 'unassign'
              : 'assign',
  };
  if (version !== undefined) parsed.version = version;
  if (stage !== undefined) parsed.stage = stage;
  if (counter !== undefined) parsed.counter = Number(counter);
  return parsed;
}

/** True when GTO's tag grammar accepts `tag` (whatever made it). */
export function isGtoTag(tag: string): boolean {
  return GTO_TAG.test(tag);
}

/** A GTO version: `v` then a semantic version (`v1.2.3`, `v1.0.0-rc.1`). */
export function isGtoSemver(version: string): boolean {
  return SEMVER_RE.test(version);
}

/** Semver precedence of two GTO versions (`v…`); build metadata is ignored, as GTO does. */
export function compareGtoSemver(a: string, b: string): number {
  const parts = (v: string) => {
    const core = v.slice(1).split('+')[0];
    const dash = core.indexOf('-');
    const main = (dash < 0 ? core : core.slice(0, dash)).split('.');
    return { main, pre: dash < 0 ? [] : core.slice(dash + 1).split('.') };
  };
  const num = (x: string, y: string) => (x.length !== y.length ? x.length - y.length : x < y ? -1 : x > y ? 1 : 0);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < 3; i++) {
    const c = num(pa.main[i], pb.main[i]);
    if (c) return Math.sign(c);
  }
  if (!pa.pre.length || !pb.pre.length) return pa.pre.length === pb.pre.length ? 0 : pa.pre.length ? -1 : 1;
  for (let i = 0; i < Math.min(pa.pre.length, pb.pre.length); i++) {
    const x = pa.pre[i];
    const y = pb.pre[i];
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    const c = xn && yn ? num(x, y) : xn ? -1 : yn ? 1 : x < y ? -1 : x > y ? 1 : 0;
    if (c) return Math.sign(c);
  }
  return Math.sign(pa.pre.length - pb.pre.length);
}

/** One git tag, as `git for-each-ref refs/tags` reports it (gto-git.ts `readGitTags`). */
export interface GitTagRef {
  name: string;
  /** The object an annotated tag points at (a commit), or a lightweight tag's commit. */
  target: string;
  /** Lightweight tags are not GTO events (they still count for the next counter). */
  annotated: boolean;
  /** Tagger time in Unix seconds (annotated tags); GTO orders events by it. */
  time: number;
  tagger?: string;
  taggerEmail?: string;
  message?: string;
}

/** One tag GTO applied, as shown in its history. */
export interface GtoEvent {
  action: Exclude<GtoAction, 'create'>;
  tag: string;
  commit: string;
  time: number;
  by: string;
  message: string;
  version?: string;
  stage?: string;
  counter?: number;
}

export interface GtoVersion {
  /** `v1.2.3`, or the commit hash of an unregistered commit that was assigned to a stage. */
  version: string;
  commit: string;
  /** It has a registration tag. */
  registered: boolean;
  /** GTO shows it: its latest (de)registration is a registration (or it has only stage tags). */
  active: boolean;
  /** It has a deregistration tag that is its latest (de)registration. */
  deregistered: boolean;
  /** The registry version this GTO version stands for (`vN.0.0` → N), else null. */
  registryVersion: number | null;
  /** Stages GTO shows it in (after resolution). */
  stages: string[];
  /** Its latest registration, or null. */
  registration: GtoEvent | null;
  /** Every tag about it, oldest first. */
  events: GtoEvent[];
}

/** The version GTO shows in a stage, and the tag that put it there. */
export interface GtoStageHolder {
  stage: string;
  version: string;
  commit: string;
  registryVersion: number | null;
  /** Its latest assignment to this stage. */
  assignment: GtoEvent;
}

export interface GtoArtifact {
  name: string;
  /** Every version GTO knows, highest semver first, unregistered commits last (inactive ones included). */
  versions: GtoVersion[];
  /** Stage → the version GTO shows there. A stage whose versions were all unassigned is absent. */
  stages: Record<string, GtoStageHolder>;
  /**
   * Stage → every active version in it, the shown one first (`gto show --vs -1`): an unassignment of
   * the first shows the next, so clearing a stage in GTO takes an unassign tag for each.
   */
  inStage: Record<string, string[]>;
  /** Stages any assign/unassign tag names. */
  stagesTagged: string[];
  /** The highest active registered version (`gto show`'s "latest"), or null. */
  latest: string | null;
  /** Hidden by a deprecation that is its most recent event. */
  deprecated: boolean;
  /** The counter `gto assign` / `gto unassign` give the next tag (highest + 1). */
  nextCounter: number;
  /** Every event, oldest first (the order GTO applied them). */
  events: GtoEvent[];
  /** Tags GTO cannot resolve (its own commands fail on them), with why. */
  problems: string[];
}

export interface GtoStateOptions {
  /** How a stage picks among its versions: `timestamp` (`gto show`'s default) or `semver`. */
  sort?: 'timestamp' | 'semver';
}

/** The counter GTO gives the next tag of `artifact`: the highest on any of its tags + 1 (gto/tag.py `name_tag`). */
export function nextGtoCounter(tagNames: Iterable<string>, artifact: string): number {
  let max = 0;
  for (const t of tagNames) {
    const p = parseGtoTagName(t);
    if (p && p.artifact === artifact && p.counter !== undefined && p.counter > max) max = p.counter;
  }
  return max + 1;
}

/** GTO's default annotation message for the tags it creates (gto/registry.py). */
export function gtoTagMessage(
  action: 'register' | 'deregister' | 'assign' | 'unassign' | 'deprecate',
  artifact: string,
  opts: { version?: string; stage?: string } = {},
): string {
  switch (action) {
    case 'register':
      return `Registering artifact ${artifact} version ${opts.version}`;
    case 'deregister':
      return `Deregistering artifact ${artifact} version ${opts.version}`;
    case 'assign':
      return `Assigning stage ${opts.stage} to artifact ${artifact} version ${opts.version}`;
    case 'unassign':
      return `Unassigning stage '${opts.stage}' to artifact '${artifact}' version '${opts.version}'`;
    default:
      return `Deprecating artifact '${artifact}'`;
  }
}

/** Registry version N for GTO version `vN.0.0` (N ≥ 1), else null. */
export function registryVersionOf(version: string): number | null {
  const m = /^v([1-9][0-9]*)\.0\.0$/.exec(version);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

// ---- the resolution, with GTO's own data structures and sorts -------------------------------

interface Ev extends GtoEvent {
  /** Index in the order GTO applied the tags, for history output. */
  seq: number;
}

interface VStage {
  stage: string;
  assignments: Ev[];
  unassignments: Ev[];
}

interface Ver {
  version: string;
  commit: string;
  registrations: Ev[];
  deregistrations: Ev[];
  stages: Map<string, VStage>;
}

/** Python's `sorted(xs, key=…)`: stable, ascending. */
function sortedBy<T>(xs: readonly T[], key: (x: T) => number): T[] {
  return [...xs].sort((a, b) => key(a) - key(b));
}
/** Python's `sorted(xs, key=…)[::-1]`. */
const newestFirst = <T extends { time: number }>(xs: readonly T[]): T[] => sortedBy(xs, (e) => e.time).reverse();

const vstageEvents = (s: VStage): Ev[] => newestFirst([...s.assignments, ...s.unassignments]);
const vstageActive = (s: VStage): boolean => vstageEvents(s)[0]?.action === 'assign';
/** An active stage's latest assignment (GTO's `created_at` / `activated_at` of a VStage). */
const vstageTime = (s: VStage): number => vstageEvents(s).find((e) => e.action === 'assign')?.time ?? -Infinity;

const directEvents = (v: Ver): Ev[] => newestFirst([...v.registrations, ...v.deregistrations]);
const indirectEvents = (v: Ver): Ev[] => newestFirst([...v.stages.values()].flatMap(vstageEvents));
/** GTO's `Version.get_events()`: the same concatenation, then the same stable sort (ties matter). */
const versionEvents = (v: Ver): Ev[] =>
  newestFirst([...v.registrations, ...v.deregistrations, ...[...v.stages.values()].flatMap(vstageEvents)]);
const discovered = (v: Ver): boolean => directEvents(v).length === 0;
function versionActive(v: Ver): boolean {
  const direct = directEvents(v);
  if (direct.length) return direct[0].action === 'register';
  return indirectEvents(v).length > 0;
}
/** GTO's `created_at` of a version: its latest registration, else its latest event. */
function versionTime(v: Ver): number {
  const reg = directEvents(v).find((e) => e.action === 'register');
  return (reg ?? indirectEvents(v)[0])?.time ?? -Infinity;
}
function semverOrder(versions: readonly Ver[]): Ver[] {
  const valid = versions.filter((v) => isGtoSemver(v.version));
  const other = versions.filter((v) => !isGtoSemver(v.version));
  return [
    ...[...valid].sort((a, b) => compareGtoSemver(a.version, b.version)).reverse(),
    ...[...other].sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0)).reverse(),
  ];
}

class Artifact {
  readonly versions: Ver[] = [];
  readonly deprecations: Ev[] = [];
  readonly problems: string[] = [];

  constructor(readonly name: string) {}

  /** GTO's `find_version` among registered (non-discovered) versions, creating one when asked. */
  findVersion(by: { version?: string; commit: string }, create: boolean): Ver | null {
    const found = this.versions.filter(
      (v) => (by.version === undefined || v.version === by.version) && v.commit === by.commit && !discovered(v),
    );
    if (found.length > 1) return null;
    if (found.length) return found[0];
    if (!create) return null;
    const made: Ver = {
      version: by.version ?? by.commit,
      commit: by.commit,
      registrations: [],
      deregistrations: [],
      stages: new Map(),
    };
    this.versions.push(made);
    return made;
  }

  add(e: Ev): void {
    if (e.action === 'deprecate') {
      this.deprecations.push(e);
      return;
    }
    if (e.action === 'register' || e.action === 'deregister') {
      const v = this.findVersion({ version: e.version, commit: e.commit }, true)!;
      (e.action === 'register' ? v.registrations : v.deregistrations).push(e);
      return;
    }
    const owner = this.versions.filter((v) => v.commit === e.commit && !discovered(v));
    if (owner.length > 1) {
      this.problems.push(
        `${e.tag}: its commit ${e.commit.slice(0, 12)} holds versions ${owner.map((v) => v.version).join(', ')}; GTO cannot tell which one it assigns (it fails with "ManyVersions")`,
      );
      return;
    }
    // At a commit with no registered version, GTO makes a version named by the commit; it looks
    // it up again among registered versions only, so each such tag gets a version of its own.
    const name = owner[0]?.version ?? e.commit;
    if (!owner.length) this.findVersion({ commit: e.commit }, true);
    const v = this.findVersion({ version: name, commit: e.commit }, true)!;
    e.version = name;
    let s = v.stages.get(e.stage!);
    if (!s) v.stages.set(e.stage!, (s = { stage: e.stage!, assignments: [], unassignments: [] }));
    (e.action === 'assign' ? s.assignments : s.unassignments).push(e);
  }

  activeVersions(registeredOnly: boolean): Ver[] {
    return this.versions.filter((v) => versionActive(v) && (!registeredOnly || v.registrations.length > 0));
  }

  /**
   * GTO's `Artifact.get_vstages` with every assignment of a version: per stage, every active version
   * in it, the one `gto show` shows first (`--vs -1` lists them all in this order).
   */
  stageHolders(sort: 'timestamp' | 'semver'): Map<string, { v: Ver; s: VStage }[]> {
    const active = this.activeVersions(false);
    const versions = sort === 'semver' ? semverOrder(active) : sortedBy(active, versionTime).reverse();
    let assignments = versions.flatMap((v) =>
      sortedBy(
        [...v.stages.values()].filter(vstageActive).map((s) => ({ v, s })),
        (x) => vstageTime(x.s),
      ),
    );
    if (sort === 'timestamp') assignments = sortedBy(assignments, (x) => vstageTime(x.s)).reverse();
    const holders = new Map<string, { v: Ver; s: VStage }[]>();
    for (const a of assignments) {
      const list = holders.get(a.s.stage) ?? [];
      if (!list.some((x) => x.v.version === a.v.version)) list.push(a);
      holders.set(a.s.stage, list);
    }
    return holders;
  }

  /** Not deprecated: its most recent event (ties: the one GTO lists last) is not a deprecation. */
  active(): boolean {
    const all = newestFirst([...this.deprecations, ...this.versions.flatMap(versionEvents)]);
    return all.length > 0 && all[0].action !== 'deprecate';
  }
}

const strip = ({ seq: _seq, ...e }: Ev): GtoEvent => e;

/**
 * What GTO shows for every artifact the tags mention: `tags` is every tag of the repository (any
 * order); tags GTO does not read are ignored.
 */
export function resolveGtoState(tags: readonly GitTagRef[], opts: GtoStateOptions = {}): Map<string, GtoArtifact> {
  const sort = opts.sort ?? 'timestamp';
  const byName = [...tags].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parsed = byName
    .map((t) => ({ t, p: parseGtoTagName(t.name) }))
    .filter((x): x is { t: GitTagRef; p: GtoTagName } => x.p !== null);
  const artifacts = new Map<string, Artifact>();
  const artifact = (name: string) => {
    let a = artifacts.get(name);
    if (!a) artifacts.set(name, (a = new Artifact(name)));
    return a;
  };
  let seq = 0;
  const phases: GtoAction[][] = [['deprecate'], ['register', 'deregister'], ['assign', 'unassign']];
  // GTO reads `@created` tags but has no action for them: building its state fails on one.
  for (const { p } of parsed)
    if (p.action === 'create')
      artifact(p.artifact).problems.push(`${p.tag}: GTO 1.10 fails on \`@created\` tags (it has no action for them)`);
  for (const phase of phases) {
    const inPhase = parsed.filter(({ t, p }) => t.annotated && phase.includes(p.action));
    for (const { t, p } of sortedBy(inPhase, (x) => x.t.time)) {
      const e: Ev = {
        seq: seq++,
        action: p.action as GtoEvent['action'],
        tag: t.name,
        commit: t.target,
        time: t.time,
        by: t.tagger ?? '',
        message: (t.message ?? '').trim(),
      };
      if (p.version !== undefined) e.version = p.version;
      if (p.stage !== undefined) e.stage = p.stage;
      if (p.counter !== undefined) e.counter = p.counter;
      artifact(p.artifact).add(e);
    }
  }
  // An artifact only lightweight or `@created` tags mention is unknown to GTO, but has a counter.
  const names = byName.map((t) => t.name);
  const out = new Map<string, GtoArtifact>();
  for (const a of [...artifacts.values()].sort((x, y) => (x.name < y.name ? -1 : 1))) {
    const all = a.stageHolders(sort);
    const holders = new Map([...all].map(([stage, list]) => [stage, list[0]]));
    const stagesOf = (v: Ver) =>
      [...holders.values()]
        .filter((h) => h.v === v)
        .map((h) => h.s.stage)
        .sort();
    const versions = semverOrder(a.versions.filter((v) => versionEvents(v).length > 0)).map((v): GtoVersion => {
      const direct = directEvents(v);
      const registration = direct.find((e) => e.action === 'register');
      return {
        version: v.version,
        commit: v.commit,
        registered: v.registrations.length > 0,
        active: versionActive(v),
        deregistered: direct[0]?.action === 'deregister',
        registryVersion: registryVersionOf(v.version),
        stages: stagesOf(v),
        registration: registration ? strip(registration) : null,
        events: sortedBy(versionEvents(v), (e) => e.seq).map(strip),
      };
    });
    const stages: Record<string, GtoStageHolder> = {};
    for (const [stage, { v, s }] of [...holders].sort(([x], [y]) => (x < y ? -1 : 1))) {
      const assignment = vstageEvents(s).find((e) => e.action === 'assign')!;
      stages[stage] = {
        stage,
        version: v.version,
        commit: v.commit,
        registryVersion: registryVersionOf(v.version),
        assignment: strip(assignment),
      };
    }
    const registered = semverOrder(a.activeVersions(true));
    const events = [...a.deprecations, ...a.versions.flatMap((v) => versionEvents(v))];
    out.set(a.name, {
      name: a.name,
      versions,
      stages,
      inStage: Object.fromEntries(
        [...all].sort(([x], [y]) => (x < y ? -1 : 1)).map(([stage, list]) => [stage, list.map((h) => h.v.version)]),
      ),
      stagesTagged: [...new Set(a.versions.flatMap((v) => [...v.stages.keys()]))].sort(),
      latest: registered[0]?.version ?? null,
      deprecated: !a.active(),
      nextCounter: nextGtoCounter(names, a.name),
      events: sortedBy([...new Set(events)], (e) => e.seq).map(strip),
      problems: a.problems,
    });
  }
  return out;
}

/** GTO's view of one artifact; an artifact no tag registers or assigns comes back empty. */
export function gtoArtifactState(tags: readonly GitTagRef[], name: string, opts: GtoStateOptions = {}): GtoArtifact {
  return (
    resolveGtoState(tags, opts).get(name) ?? {
      name,
      versions: [],
      stages: {},
      inStage: {},
      stagesTagged: [],
      latest: null,
      deprecated: false,
      nextCounter: nextGtoCounter(
        tags.map((t) => t.name),
        name,
      ),
      events: [],
      problems: [],
    }
  );
}
