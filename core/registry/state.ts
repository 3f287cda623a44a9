/**
 * Pure transitions of one model's state document. Every change appends exactly one history
 * event in the same document, so a committed state and its history can never disagree. The
 * backends only decide how a new document replaces the old one atomically.
 */
import { gtoDeregisterTag, gtoTagNames, gtoUnassignTag } from './gto.ts';
import { RegistryError, assertStageName } from './names.ts';
import { STATE_SCHEMA_VERSION } from './schema.ts';
import type { BundleManifest, EventType, HistoryEvent, ModelState, VersionMeta, VersionRecord } from './schema.ts';

/** Who makes a change, through what, and why; plus the id and time of the write. */
export interface ChangeContext {
  tx: string;
  at: string;
  actor: string;
  source: string;
  reason: string | null;
  /** The git tags mirroring a stage change, when the caller names them (default: the registry's own names). */
  tags?: string[];
}

export function emptyState(model: string): ModelState {
  return {
    schema: STATE_SCHEMA_VERSION,
    model,
    revision: 0,
    updated_at: null,
    versions: [],
    stages: {},
    archived: [],
    history: [],
  };
}

export function latestVersion(state: ModelState): number | null {
  return state.versions.length ? state.versions[state.versions.length - 1].version : null;
}

export function findVersion(state: ModelState, version: number): VersionRecord {
  const found = state.versions.find((v) => v.version === version);
  if (!found) {
    const known = state.versions.length
      ? `known versions: ${state.versions.map((v) => v.version).join(', ')}`
      : 'it has no versions yet';
    throw new RegistryError(`model '${state.model}' has no version ${version} (${known})`, 'not-found');
  }
  return found;
}

export function stagesOf(state: ModelState, version: number): string[] {
  return Object.keys(state.stages)
    .filter((s) => state.stages[s] === version)
    .sort();
}

/** GTO's per-artifact counter: every assign/unassign tag takes the next number. */
function nextTagCounter(state: ModelState): number {
  return state.history.filter((e) => e.type === 'promote' || e.type === 'rollback' || e.type === 'demote').length + 1;
}

function withEvent(
  state: ModelState,
  ctx: ChangeContext,
  fields: Pick<HistoryEvent, 'type' | 'version' | 'stage' | 'from' | 'to' | 'tags'>,
  change: Partial<ModelState>,
): ModelState {
  const event: HistoryEvent = {
    seq: state.history.length + 1,
    tx: ctx.tx,
    model: state.model,
    actor: ctx.actor,
    source: ctx.source,
    reason: ctx.reason,
    at: ctx.at,
    ...fields,
  };
  return { ...state, ...change, revision: state.revision + 1, updated_at: ctx.at, history: [...state.history, event] };
}

/** The version holding this content already (same content md5, or for older records the same bytes). */
export function findSameContent(
  state: ModelState,
  bundle: Pick<BundleManifest, 'md5'>,
  contentMd5: string | null,
): VersionRecord | undefined {
  return state.versions.find(
    (v) => (contentMd5 !== null && v.content_md5 === contentMd5) || v.bundle.md5 === bundle.md5,
  );
}

export function applyRegister(
  state: ModelState,
  ctx: ChangeContext,
  bundle: BundleManifest,
  meta: VersionMeta,
  contentMd5: string | null = null,
): ModelState {
  const previous = latestVersion(state);
  const version = (previous ?? 0) + 1;
  const record: VersionRecord = {
    version,
    registered_at: ctx.at,
    registered_by: ctx.actor,
    source: ctx.source,
    ...meta,
    bundle,
    content_md5: contentMd5,
  };
  return withEvent(
    state,
    ctx,
    {
      type: 'register',
      version,
      stage: null,
      from: previous,
      to: version,
      tags: [gtoTagNames(state.model, version).register],
    },
    { versions: [...state.versions, record] },
  );
}

function assertPromotable(state: ModelState, version: number): void {
  findVersion(state, version);
  if (state.archived.includes(version)) {
    throw new RegistryError(
      `version ${version} of '${state.model}' is archived and cannot be assigned to a stage`,
      'conflict',
    );
  }
}

function moveStage(
  state: ModelState,
  ctx: ChangeContext,
  type: EventType,
  stage: string,
  to: number | null,
): ModelState {
  const from = state.stages[stage] ?? null;
  const stages = { ...state.stages };
  if (to === null) delete stages[stage];
  else stages[stage] = to;
  const counter = nextTagCounter(state);
  const tags =
    ctx.tags ??
    (to === null
      ? [gtoUnassignTag(state.model, stage, counter)]
      : [gtoTagNames(state.model, to, stage, counter).assign!]);
  return withEvent(state, ctx, { type, version: to ?? from, stage, from, to, tags }, { stages });
}

/** Point `stage` at `version`; null when it already does (nothing to record). */
export function applySetStage(
  state: ModelState,
  ctx: ChangeContext,
  stage: string,
  version: number,
): ModelState | null {
  assertStageName(stage);
  assertPromotable(state, version);
  if (state.stages[stage] === version) return null;
  return moveStage(state, ctx, 'promote', stage, version);
}

/**
 * The version `stage` held before its last change that has not been undone yet. Rollbacks walk
 * back like undo: after 1 → 2 → 3, a rollback gives 2 and a second rollback gives 1; after a
 * demote, a rollback restores the demoted version.
 */
export function rollbackTarget(state: ModelState, stage: string): number {
  assertStageName(stage);
  const changes = state.history.filter(
    (e) => e.stage === stage && (e.type === 'promote' || e.type === 'rollback' || e.type === 'demote'),
  );
  if (!changes.length) {
    throw new RegistryError(
      `model '${state.model}' has nothing at stage '${stage}' to roll back${describeStages(state)}`,
      'not-found',
    );
  }
  let undone = 0;
  for (let i = changes.length - 1; i >= 0; i--) {
    const e = changes[i];
    if (e.type === 'rollback') undone++;
    else if (undone > 0) undone--;
    else if (e.from === null) break;
    else return e.from;
  }
  throw new RegistryError(
    `stage '${stage}' of '${state.model}' has no earlier version to roll back to; promote a version instead`,
    'conflict',
  );
}

export function applyRollback(state: ModelState, ctx: ChangeContext, stage: string): ModelState {
  const target = rollbackTarget(state, stage);
  assertPromotable(state, target);
  return moveStage(state, ctx, 'rollback', stage, target);
}

/** Clear `stage`; null when it is already empty. A later rollback restores what it held. */
export function applyDemote(state: ModelState, ctx: ChangeContext, stage: string): ModelState | null {
  assertStageName(stage);
  if (state.stages[stage] === undefined) return null;
  return moveStage(state, ctx, 'demote', stage, null);
}

/** Retire a version: it stays listed and downloadable, but can no longer be assigned to a stage. */
export function applyArchive(state: ModelState, ctx: ChangeContext, version: number): ModelState | null {
  findVersion(state, version);
  if (state.archived.includes(version)) return null;
  const staged = stagesOf(state, version);
  if (staged.length) {
    throw new RegistryError(
      `version ${version} of '${state.model}' is at ${staged.join(', ')}; demote it or promote another version first`,
      'conflict',
    );
  }
  return withEvent(
    state,
    ctx,
    { type: 'archive', version, stage: null, from: null, to: null, tags: [gtoDeregisterTag(state.model, version)] },
    { archived: [...state.archived, version].sort((a, b) => a - b) },
  );
}

export function describeStages(state: ModelState): string {
  const names = Object.keys(state.stages).sort();
  return names.length
    ? ` (stages: ${names.map((s) => `${s}=v${state.stages[s]}`).join(', ')})`
    : ' (no stage is assigned yet)';
}

/**
 * Invariants a committed document must satisfy; replaying the history must give the same
 * versions, stages and archive. Returns the problems found (empty when consistent).
 */
export function checkState(state: ModelState): string[] {
  const problems: string[] = [];
  const versions = new Set<number>();
  const stages: Record<string, number> = {};
  const archived = new Set<number>();
  const txs = new Set<string>();
  state.history.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`history event ${i + 1} has seq ${e.seq}`);
    if (txs.has(e.tx)) problems.push(`history event ${e.seq} repeats write ${e.tx}`);
    txs.add(e.tx);
    if (e.type === 'register' && e.version !== null) versions.add(e.version);
    else if (e.type === 'archive' && e.version !== null) archived.add(e.version);
    else if (e.stage !== null) {
      if ((stages[e.stage] ?? null) !== e.from)
        problems.push(
          `history event ${e.seq} moves ${e.stage} from v${e.from} but it held v${stages[e.stage] ?? 'none'}`,
        );
      if (e.to === null) delete stages[e.stage];
      else stages[e.stage] = e.to;
    }
  });
  state.versions.forEach((v, i) => {
    if (v.version !== i + 1) problems.push(`version entry ${i + 1} is numbered ${v.version}`);
    if (!versions.has(v.version)) problems.push(`version ${v.version} has no register event`);
  });
  if (versions.size !== state.versions.length)
    problems.push(`history registers ${versions.size} versions, the document lists ${state.versions.length}`);
  for (const [stage, v] of Object.entries(state.stages)) {
    if (!state.versions.some((r) => r.version === v)) problems.push(`stage ${stage} points at missing version ${v}`);
    if (stages[stage] !== v) problems.push(`stage ${stage} is v${v} but its history says v${stages[stage] ?? 'none'}`);
  }
  for (const stage of Object.keys(stages))
    if (state.stages[stage] === undefined) problems.push(`history assigns ${stage} but the document does not`);
  if ([...archived].sort((a, b) => a - b).join() !== state.archived.join())
    problems.push('archived versions disagree with the history');
  if (state.revision < state.history.length)
    problems.push(`revision ${state.revision} is lower than the number of events ${state.history.length}`);
  return problems;
}
