/**
 * Is a stage up to date? The same questions `dvc status` asks: does dvc.lock have an entry with
 * the same command, the same dependency and output md5s, and the same parameter values? Every
 * difference becomes a human-readable reason, so `--dry` can say why a stage would run.
 */
import { resolve } from 'node:path';
import { lockItemFromHash, lockStageView, pyEquals, readParamValues } from '../../core/dvc/index.ts';
import type { LockItem, LockStage, PathHash, StageSpec } from '../../core/dvc/index.ts';

export type Hasher = (absPath: string) => Promise<PathHash>;

export interface HashedPath {
  /** As written in dvc.yaml. */
  path: string;
  abs: string;
  /** null when the path does not exist. */
  hash: PathHash | null;
}

export interface StageState {
  deps: HashedPath[];
  outs: HashedPath[];
  params: Record<string, Record<string, unknown>>;
}

async function hashOrNull(hasher: Hasher, abs: string): Promise<PathHash | null> {
  try {
    return await hasher(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function readStageParams(
  repoRoot: string,
  spec: StageSpec,
): Promise<Record<string, Record<string, unknown>>> {
  const params: Record<string, Record<string, unknown>> = {};
  for (const p of spec.params)
    params[p.file] = await readParamValues(resolve(repoRoot, spec.wdir, p.file), p.keys, p.file);
  return params;
}

export async function currentState(repoRoot: string, spec: StageSpec, hasher: Hasher): Promise<StageState> {
  const hashAll = (paths: string[]): Promise<HashedPath[]> =>
    Promise.all(
      paths.map(async (path) => {
        const abs = resolve(repoRoot, spec.wdir, path);
        return { path, abs, hash: await hashOrNull(hasher, abs) };
      }),
    );
  return {
    deps: await hashAll(spec.deps),
    outs: await hashAll(spec.outs.map((o) => o.path)),
    params: await readStageParams(repoRoot, spec),
  };
}

function short(v: unknown): string {
  const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/** Up to this many paths are named one reason each; more become one line (a generated dvc.yaml lists dozens of code deps). */
const LISTED = 3;

function group(kind: 'dep' | 'out', what: string, paths: string[], reasons: string[]): void {
  if (paths.length <= LISTED) for (const p of paths) reasons.push(`${kind} '${p}' ${what}`);
  else
    reasons.push(
      `${paths.length} ${kind}s ${what.replace(/^is /, 'are ').replace(/^was /, 'were ')}: ${paths
        .slice(0, LISTED)
        .map((p) => `'${p}'`)
        .join(', ')}, …`,
    );
}

function compareItems(kind: 'dep' | 'out', current: HashedPath[], locked: LockItem[], reasons: string[]): void {
  const lockedByPath = new Map(locked.map((i) => [i.path, i]));
  const missing: string[] = [];
  const added: string[] = [];
  const changed: string[] = [];
  for (const c of current) {
    const l = lockedByPath.get(c.path);
    if (!c.hash) missing.push(c.path);
    else if (!l) added.push(c.path);
    else if (l.md5 !== c.hash.md5) changed.push(c.path);
  }
  const declared = new Set(current.map((c) => c.path));
  group(kind, 'is missing', missing, reasons);
  group(kind, 'is new', added, reasons);
  group(kind, 'changed', changed, reasons);
  group(
    kind,
    'was removed from dvc.yaml',
    locked.filter((l) => !declared.has(l.path)).map((l) => l.path),
    reasons,
  );
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A whole-section param (`validate`, `train`) that changed is named down to the keys that did, so
 * the two sides shown are not the same first 40 characters of two long objects.
 */
function paramChanges(key: string, before: unknown, after: unknown, out: string[]): void {
  if (!isPlainObject(before) || !isPlainObject(after)) {
    out.push(`param '${key}' changed (${short(before)} -> ${short(after)})`);
    return;
  }
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!(k in before)) out.push(`param '${key}.${k}' is new`);
    else if (!(k in after)) out.push(`param '${key}.${k}' was removed`);
    else if (!pyEquals(after[k], before[k])) paramChanges(`${key}.${k}`, before[k], after[k], out);
  }
}

function compareParams(current: StageState['params'], locked: LockStage['params'], reasons: string[]): void {
  for (const [file, values] of Object.entries(current)) {
    const old = locked[file] ?? {};
    for (const [key, v] of Object.entries(values)) {
      if (!(key in old)) reasons.push(`param '${key}' is new`);
      else if (!pyEquals(v, old[key])) {
        const changes: string[] = [];
        paramChanges(key, old[key], v, changes);
        reasons.push(
          ...(changes.length > LISTED
            ? [...changes.slice(0, LISTED), `and ${changes.length - LISTED} more change(s) in param '${key}'`]
            : changes),
        );
      }
    }
    for (const key of Object.keys(old)) if (!(key in values)) reasons.push(`param '${key}' was removed`);
  }
  for (const file of Object.keys(locked))
    if (!(file in current)) reasons.push(`params of '${file}' are no longer used`);
}

/** Why the stage must run; empty when it is up to date. */
export function whyChanged(spec: StageSpec, state: StageState, lockRaw: Record<string, unknown> | undefined): string[] {
  if (!lockRaw) return ['no entry in dvc.lock yet'];
  if (spec.alwaysChanged) return ['always_changed is set'];
  // DVC's "callback" stage: nothing to compare, so it always runs.
  if (spec.deps.length === 0 && spec.params.length === 0 && spec.outs.length === 0)
    return ['stage has no deps, params or outs'];
  const locked = lockStageView(spec.name, lockRaw);
  const reasons: string[] = [];
  if (!pyEquals(spec.cmd, locked.cmd)) reasons.push('command changed');
  compareItems('dep', state.deps, locked.deps, reasons);
  compareParams(state.params, locked.params, reasons);
  compareItems('out', state.outs, locked.outs, reasons);
  return reasons;
}

/** The dvc.lock content for a stage that just ran; throws if an output is missing. */
export function lockStageFrom(spec: StageSpec, state: StageState): LockStage {
  const items = (paths: HashedPath[]): LockItem[] => paths.map((p) => lockItemFromHash(p.path, p.hash!));
  return { cmd: spec.cmd, deps: items(state.deps), params: state.params, outs: items(state.outs) };
}
