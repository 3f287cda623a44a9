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

export async function readStageParams(repoRoot: string, spec: StageSpec): Promise<Record<string, Record<string, unknown>>> {
  const params: Record<string, Record<string, unknown>> = {};
  for (const p of spec.params) params[p.file] = await readParamValues(resolve(repoRoot, spec.wdir, p.file), p.keys, p.file);
  return params;
}

export async function currentState(repoRoot: string, spec: StageSpec, hasher: Hasher): Promise<StageState> {
  const hashAll = (paths: string[]): Promise<HashedPath[]> =>
    Promise.all(paths.map(async (path) => {
      const abs = resolve(repoRoot, spec.wdir, path);
      return { path, abs, hash: await hashOrNull(hasher, abs) };
    }));
  return {
    deps: await hashAll(spec.deps),
    outs: await hashAll(spec.outs.map((o) => o.path)),
    params: await readStageParams(repoRoot, spec),
  };
}

function short(v: unknown): string {
  const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}

function compareItems(kind: 'dep' | 'out', current: HashedPath[], locked: LockItem[], reasons: string[]): void {
  const lockedByPath = new Map(locked.map((i) => [i.path, i]));
  for (const c of current) {
    const l = lockedByPath.get(c.path);
    if (!c.hash) reasons.push(`${kind} '${c.path}' is missing`);
    else if (!l) reasons.push(`${kind} '${c.path}' is new`);
    else if (l.md5 !== c.hash.md5) reasons.push(`${kind} '${c.path}' changed`);
  }
  const declared = new Set(current.map((c) => c.path));
  for (const l of locked) if (!declared.has(l.path)) reasons.push(`${kind} '${l.path}' was removed from dvc.yaml`);
}

function compareParams(current: StageState['params'], locked: LockStage['params'], reasons: string[]): void {
  for (const [file, values] of Object.entries(current)) {
    const old = locked[file] ?? {};
    for (const [key, v] of Object.entries(values)) {
      if (!(key in old)) reasons.push(`param '${key}' is new`);
      else if (!pyEquals(v, old[key])) reasons.push(`param '${key}' changed (${short(old[key])} -> ${short(v)})`);
    }
    for (const key of Object.keys(old)) if (!(key in values)) reasons.push(`param '${key}' was removed`);
  }
  for (const file of Object.keys(locked)) if (!(file in current)) reasons.push(`params of '${file}' are no longer used`);
}

/** Why the stage must run; empty when it is up to date. */
export function whyChanged(spec: StageSpec, state: StageState, lockRaw: Record<string, unknown> | undefined): string[] {
  if (!lockRaw) return ['no entry in dvc.lock yet'];
  if (spec.alwaysChanged) return ['always_changed is set'];
  // DVC's "callback" stage: nothing to compare, so it always runs.
  if (spec.deps.length === 0 && spec.params.length === 0 && spec.outs.length === 0) return ['stage has no deps, params or outs'];
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
