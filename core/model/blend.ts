/**
 * A blend: several fitted candidates served as one model, its output the weighted mean of theirs
 * (values, probabilities, or class probabilities). The train stage blends the candidates of a
 * small table (train.blend): on a few hundred rows, choosing one candidate by ~80 validation rows
 * is mostly chance; its weights are chosen on every member's out-of-fold outputs over all of
 * them (training/select/blend-weights.ts; docs/model-quality.md, "Small public tables"). On a
 * large regression table (train.validation_blend) the weights come from the validation outputs.
 * Each member keeps its own output settings (target scaling,
 * calibration), so a member outputs what it would as a bundle of its own; the bundle stores each
 * member's model files in its own subdirectory (`members/<i>/`).
 */
import type { BundleMeta } from '../schemas/bundle-meta.ts';

/** What turns a member's raw outputs into target units: the per-model part of bundle.json. */
export type MemberOutputs = Pick<BundleMeta, 'target_scaler' | 'calibration'>;

export interface BlendMember<M> {
  model: M;
  meta: MemberOutputs;
  weight: number;
}

export interface BlendModel<M extends { dispose(): void } = { dispose(): void }> {
  kind: 'blend';
  members: BlendMember<M>[];
  dispose(): void;
}

export function isBlendModel(m: unknown): m is BlendModel {
  return typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'blend';
}

/** The subdirectory of a bundle holding member `i`'s model files. */
export const memberDir = (i: number) => `members/${i}`;

/**
 * Weights must be finite and positive; they are normalised to sum to 1. Weights that already do
 * (within rounding) are kept bit for bit: a bundle's reloaded weights must serve exactly the
 * outputs its golden examples recorded, and dividing by a sum of 0.9999999999999999 again would
 * move an output by one float32 step.
 */
export function blendModel<M extends { dispose(): void }>(members: BlendMember<M>[]): BlendModel<M> {
  if (members.length < 2) throw new Error(`a blend needs at least two members, got ${members.length}`);
  const sum = members.reduce((s, m) => s + m.weight, 0);
  const total = Math.abs(sum - 1) <= 1e-9 ? 1 : sum;
  const bad = members.findIndex((m) => !(Number.isFinite(m.weight) && m.weight > 0));
  if (bad >= 0) throw new Error(`blend member ${bad} has weight ${members[bad].weight}; weights must be positive`);
  return {
    kind: 'blend',
    members: members.map((m) => ({ ...m, weight: m.weight / total })),
    dispose: () => members.forEach((m) => m.model.dispose()),
  };
}

/** The weighted mean of the members' outputs (equally long: rows × outputs per row). */
export function blendOutputs(weights: readonly number[], outputs: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(outputs[0].length);
  outputs.forEach((o, m) => {
    if (o.length !== out.length)
      throw new Error(`blend member ${m} gave ${o.length} outputs where member 0 gave ${out.length}`);
    for (let i = 0; i < out.length; i++) out[i] += weights[m] * o[i];
  });
  return out;
}
