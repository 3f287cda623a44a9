/**
 * The stage assignment the register stage decides, named and applied the way the git tags (the
 * registry of record) want it: the tag carries GTO's counter over the repository's own tags
 * (highest on any tag of the model + 1, what `gto assign` would name it now), not the registry's
 * event count, and in the train workflow the registry is not moved at all — `gh:tag` creates the
 * tag and `registry sync-from-tags` moves the registry after it, so the API never serves a stage
 * that no tag records.
 */
import { gitIn, gitWorkTree, gtoTagNames, nextGtoCounter, readGitTags, type Registry } from '../core/registry/index.ts';

/**
 * How a decided stage change reaches the registry: `registry` moves it now (npm start, the trainer
 * Job); `tags` records the decision only, for the tag to move it (the train workflow).
 */
export type StageVia = 'registry' | 'tags';

export interface StageAssignment {
  stage: string;
  from: number | null;
  to: number;
  /** `<name>#<stage>#<K>` with GTO's counter (the registry's own when `repoRoot` is not a git checkout). */
  tag: string;
  /** True when the registry was moved now; false when the tag moves it later. */
  applied: boolean;
}

/** GTO's next counter for `model` over the tags of the git checkout holding `repoRoot`, or null outside one. */
export async function gtoCounterAt(repoRoot: string, model: string): Promise<number | null> {
  const top = await gitWorkTree(repoRoot);
  if (!top) return null;
  const tags = await readGitTags(gitIn(top)).catch(() => null);
  return tags
    ? nextGtoCounter(
        tags.map((t) => t.name),
        model,
      )
    : null;
}

/** Assign `version` of `model` to `stage` by `via`; null when the stage already holds it. */
export async function assignStage(
  registry: Registry,
  o: { repoRoot: string; model: string; stage: string; version: number; via: StageVia; reason: string },
): Promise<StageAssignment | null> {
  const from = (await registry.state(o.model)).stages[o.stage] ?? null;
  if (from === o.version) return null;
  const counter = await gtoCounterAt(o.repoRoot, o.model);
  if (o.via === 'tags') {
    // Without the checkout's tags the registry's counter stands in; gh:tag recomputes it from the tags either way.
    const fallback = (await registry.history(o.model)).filter((e) => e.stage !== null).length + 1;
    const tag = gtoTagNames(o.model, o.version, o.stage, counter ?? fallback).assign!;
    return { stage: o.stage, from, to: o.version, tag, applied: false };
  }
  const tags = counter === null ? undefined : [gtoTagNames(o.model, o.version, o.stage, counter).assign!];
  await registry.setStage(o.model, o.stage, o.version, { source: 'pipeline', reason: o.reason, tags });
  const recorded = (await registry.history(o.model)).at(-1)!;
  return { stage: o.stage, from, to: o.version, tag: recorded.tags[0], applied: true };
}
