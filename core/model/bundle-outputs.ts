/**
 * A bundle's model outputs for a table, in target units: calibrated probabilities (or raw scores
 * with `raw`), regression values scaled back, a blend as the weighted mean of its members in their
 * own units and calibration. What every consumer of a bundle predicts with (core/model/bundle.ts).
 */
import type * as tfjs from '@tensorflow/tfjs';
import { encodeFeatures, type EncodedFeatures, type FeatureSpec } from './features.ts';
import { layoutOf } from './network.ts';
import { compileForward, forward, type ForwardNet } from './forward.ts';
import type { Table } from '../data/table.ts';
import type { BundleMeta } from '../schemas/bundle-meta.ts';
import { isTreeModel, treeOutputs, type TreeModel } from './trees.ts';
import { blendOutputs, isBlendModel, type BlendModel } from './blend.ts';

type TF = typeof tfjs;
/** What a bundle predicts with: a tfjs network, a gradient-boosted tree ensemble, or a blend of them. */
export type SingleModel = tfjs.LayersModel | TreeModel;
export type BundleModel = SingleModel | BlendModel<SingleModel>;

/** `raw`: without calibration, a blend's members' included. */
export type OutputMeta = Pick<BundleMeta, 'target_scaler' | 'calibration'> & { raw?: boolean };

export function outputsFromModel(
  tf: TF,
  model: BundleModel,
  meta: OutputMeta,
  spec: FeatureSpec,
  table: Table,
): Float32Array {
  return outputsFromEncoded(tf, model, meta, encodeFeatures(spec, table), spec, table);
}

const compiled = new WeakMap<tfjs.LayersModel, ForwardNet>();
const compiledRaw = new WeakMap<tfjs.LayersModel, ForwardNet>();

/**
 * Predictions go through core/model/forward.ts (plain JS from the model's weights), not tfjs: a few µs
 * per row instead of ~100 µs per call, and identical on every backend, so golden outputs recorded
 * at training hold wherever the bundle is served.
 */
export function outputsFromEncoded(
  _tf: TF,
  model: BundleModel,
  meta: OutputMeta,
  enc: EncodedFeatures,
  spec: FeatureSpec,
  table: Table,
): Float32Array {
  if (isBlendModel(model)) {
    // Each member in its own units and calibration (a blend has no calibration of its own).
    const outputs = model.members.map((m) =>
      outputsFromEncoded(_tf, m.model, meta.raw ? { ...m.meta, calibration: undefined } : m.meta, enc, spec, table),
    );
    return blendOutputs(
      model.members.map((m) => m.weight),
      outputs,
    );
  }
  const calibration = meta.calibration ?? null;
  let raw: Float32Array;
  if (isTreeModel(model)) raw = treeOutputs(model, spec, table, calibration, enc);
  else {
    const cache = calibration ? compiled : compiledRaw;
    let net = cache.get(model);
    if (!net || net.calibration !== calibration) {
      net = compileForward(model, layoutOf(enc).categorical, enc.numericNames.length, calibration);
      cache.set(model, net);
    }
    raw = forward(net, enc);
  }
  return scaled(raw, meta);
}

/** Outputs in target units: a regression's standardized outputs scaled back (in place). */
export function scaled(outputs: Float32Array, meta: OutputMeta): Float32Array {
  const s = meta.target_scaler;
  if (s) for (let i = 0; i < outputs.length; i++) outputs[i] = outputs[i] * s.std + s.mean;
  return outputs;
}
