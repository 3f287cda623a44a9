/**
 * The model bundle: everything serving needs, in one directory, written by training and loaded by
 * the API through this file only. `loadBundle` gives a predictor that applies the bundle's own
 * feature spec with core/model/features.ts — the transform code training used — so there is no skew.
 *
 *   model.json + weights.bin   tfjs layers model (networks), or
 *   trees.json                 the tree ensemble (model_type gbdt, core/model/trees.ts), or
 *   members/<i>/               a blend's member models, each as above (model_type blend, ./blend.ts)
 *   bundle.json                metadata: task, threshold, target scaling, metrics, params, lineage
 *   feature-spec.json          fitted transforms      reference-profile.json  inputs + predictions
 *   golden.json                example records with the outputs training computed for them
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { replaceDirAtomic } from '../platform/atomic.ts';
import { encodeFeatures, type EncodedFeatures, type FeatureSpec } from './features.ts';
import { layoutOf } from './network.ts';
import { compileForward, forward, type ForwardNet } from './forward.ts';
import { calibrationProblem } from './calibration.ts';
import type { NumericProfile, ReferenceProfile } from './profile.ts';
import { recordsToTable, type FieldError } from '../data/records.ts';
import type { Table } from '../data/table.ts';
import { BUNDLE_META_FILE, parseBundleMeta, type BundleMeta } from '../schemas/bundle-meta.ts';
import { FEATURE_SPEC_FILE, GOLDEN_FILE, PROFILE_FILE } from '../schemas/artifact-names.ts';
import { readArtifactFile } from './artifact-files.ts';
import {
  isTreeModel,
  nonFiniteTrees,
  scoresToOutputs,
  treeModelFrom,
  treeOutputs,
  treeScores,
  TREES_FILE,
  type TreeModel,
} from './trees.ts';
import { blendModel, blendOutputs, isBlendModel, memberDir, type BlendModel } from './blend.ts';
import { checkMemberDirs, checkOutputWidth, checkWeightBytes } from './bundle-checks.ts';

type TF = typeof tfjs;
/** What a bundle predicts with: a tfjs network, a gradient-boosted tree ensemble, or a blend of them. */
export type SingleModel = tfjs.LayersModel | TreeModel;
export type BundleModel = SingleModel | BlendModel<SingleModel>;

export const BUNDLE_FORMAT = 1;

/** One of a bundle's golden examples (golden.json, checked by core/model/artifact-files.ts goldenSchema). */
export interface GoldenExample {
  /** Input fields, as a request would send them. */
  record: Record<string, unknown>;
  /** The output training computed for the record (finite); multi-class: the predicted class index. */
  expected: number;
  /** Multi-class: the probability of each class (the feature spec's target.classes order). */
  probabilities?: number[];
}

export interface GoldenCheck {
  ok: boolean;
  mismatches: { index: number; expected: number; actual: number | null }[];
  /** Why the check failed, in words (empty set, non-finite outputs, differing outputs). */
  problem?: string;
}

export interface BundleProfile extends ReferenceProfile {
  predictions?: NumericProfile;
  /** Multi-class: the validation probabilities of each class, keyed by class name. */
  prediction_classes?: Record<string, NumericProfile>;
}

export interface BundleContents {
  meta: BundleMeta;
  spec: FeatureSpec;
  profile: BundleProfile;
  golden: GoldenExample[];
}

export interface LoadedBundle extends BundleContents {
  dir: string;
  model: BundleModel;
  /** Model outputs in target units: probabilities (classification, calibrated; `raw` skips the calibration) or values (regression). */
  predictTable(table: Table, options?: { raw?: boolean }): Float32Array;
  /** predictTable and predictTable with `raw`, a tree ensemble walked once for both (evaluate reports both). */
  predictTableBoth(table: Table): { calibrated: Float32Array; raw: Float32Array };
  /** Multi-class: the class names in output order; undefined for binary and regression bundles (old bundles too). */
  classes: string[] | undefined;
  /**
   * Validate and predict JSON records; a record with errors gets null and its field errors.
   * Multi-class: `predictions` holds the predicted class index and `probabilities` every class's.
   */
  predictRecords(records: unknown[]): {
    predictions: (number | null)[];
    probabilities?: (number[] | null)[];
    errors: FieldError[][];
    oov: Record<string, number>;
    table: Table;
  };
  /**
   * Re-run the golden examples; `mismatches` lists any output that differs from the recorded one
   * or is not a finite number (NaN never compares unequal, so it is checked on its own).
   */
  checkGolden(tolerance?: number): GoldenCheck;
  dispose(): void;
}

/** `raw`: without calibration, a blend's members' included. */
type OutputMeta = Pick<BundleMeta, 'target_scaler' | 'calibration'> & { raw?: boolean };

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
function outputsFromEncoded(
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
function scaled(outputs: Float32Array, meta: OutputMeta): Float32Array {
  const s = meta.target_scaler;
  if (s) for (let i = 0; i < outputs.length; i++) outputs[i] = outputs[i] * s.std + s.mean;
  return outputs;
}

export async function saveBundle(tf: TF, dir: string, model: BundleModel, contents: BundleContents): Promise<void> {
  const blended = contents.meta.blend?.members.length ?? 0;
  if (isBlendModel(model) !== blended > 0 || (isBlendModel(model) && model.members.length !== blended))
    throw new Error(
      `saveBundle: bundle.json describes ${blended} blend member(s) but the model has ${isBlendModel(model) ? model.members.length : 0}; the train stage must write both from one blend`,
    );
  await replaceDirAtomic(dir, async (tmp) => {
    if (isBlendModel(model))
      for (const [i, m] of model.members.entries()) {
        await mkdir(join(tmp, memberDir(i)), { recursive: true });
        await saveModelFiles(tf, join(tmp, memberDir(i)), m.model);
      }
    else await saveModelFiles(tf, tmp, model);
    await writeFile(join(tmp, BUNDLE_META_FILE), JSON.stringify(contents.meta, null, 2) + '\n');
    await writeFile(join(tmp, FEATURE_SPEC_FILE), JSON.stringify(contents.spec, null, 2) + '\n');
    await writeFile(join(tmp, PROFILE_FILE), JSON.stringify(contents.profile, null, 2) + '\n');
    await writeFile(join(tmp, GOLDEN_FILE), JSON.stringify(contents.golden, null, 2) + '\n');
  });
}

async function saveModelFiles(tf: TF, tmp: string, model: SingleModel): Promise<void> {
  if (isTreeModel(model)) await writeFile(join(tmp, TREES_FILE), JSON.stringify(model.json));
  else
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weightData = artifacts.weightData;
        const bytes =
          weightData === undefined
            ? new Uint8Array(0)
            : new Uint8Array(Array.isArray(weightData) ? tf.io.concatenateArrayBuffers(weightData) : weightData);
        const modelJson = {
          format: artifacts.format ?? 'layers-model',
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy ?? null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        };
        await writeFile(join(tmp, 'model.json'), JSON.stringify(modelJson));
        await writeFile(join(tmp, 'weights.bin'), bytes);
        return {
          modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.byteLength },
        };
      }),
    );
}

async function readJson<T>(dir: string, file: string): Promise<T> {
  const path = join(dir, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(
      `model bundle ${dir} has no ${file}; it is incomplete — re-run training or fetch the version again from the registry`,
    );
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`model bundle file ${path} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/** A bundle refused because a weight is NaN or infinite: whatever input reaches it gets no prediction. */
export class NonFiniteBundleError extends Error {}

/**
 * The first weight holding a NaN or ±Infinity, checked on every value (an embedding row of one
 * airport is enough to break every request from it, while the golden examples pass).
 */
export function nonFiniteWeights(
  model: tfjs.LayersModel,
): { name: string; count: number; size: number; first: number } | null {
  for (const w of model.weights) {
    const values = w.read().dataSync();
    let count = 0;
    let first = -1;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        count++;
        if (first < 0) first = i;
      }
    }
    if (count) return { name: w.name, count, size: values.length, first };
  }
  return null;
}

export async function loadBundle(tf: TF, dir: string): Promise<LoadedBundle> {
  const raw = await readJson<{ format_version?: unknown }>(dir, BUNDLE_META_FILE);
  if (raw?.format_version !== BUNDLE_FORMAT)
    throw new Error(
      `model bundle ${dir} has format ${JSON.stringify(raw?.format_version)}; this code reads format ${BUNDLE_FORMAT}`,
    );
  // Through its schema (core/schemas/metrics-files.ts): a malformed bundle.json fails naming the file and field.
  const meta = parseBundleMeta(raw, join(dir, BUNDLE_META_FILE));
  // Through their schemas (core/model/artifact-files.ts), like bundle.json: a malformed one fails naming the file and field.
  const spec: FeatureSpec = await readArtifactFile(dir, 'featureSpec', 'train');
  const profile: BundleProfile = await readArtifactFile(dir, 'bundleProfile', 'train');
  const golden: GoldenExample[] = await readArtifactFile(dir, 'golden', 'train');
  const classes = spec.target.classes?.length ?? 1;
  const single = async (kind: string, at: string) => {
    const m = kind === 'gbdt' ? await loadTrees(at) : await loadNetwork(tf, at);
    try {
      checkOutputWidth(at, m, classes);
    } catch (err) {
      m.dispose();
      throw err;
    }
    return m;
  };
  const members = meta.blend?.members ?? [];
  if (meta.blend) await checkMemberDirs(dir, members.length);
  const loaded: SingleModel[] = [];
  let model: BundleModel;
  try {
    for (const [i, m] of members.entries()) loaded.push(await single(m.model_type, join(dir, memberDir(i))));
    model = meta.blend
      ? blendModel(members.map((m, i) => ({ model: loaded[i], meta: m, weight: m.weight })))
      : await single(meta.model_type, dir);
  } catch (err) {
    loaded.forEach((m) => m.dispose());
    throw err;
  }
  const calibrations = [
    { at: 'calibration', c: meta.calibration },
    ...members.map((m, i) => ({ at: `blend.members[${i}].calibration`, c: m.calibration })),
  ];
  const bad = calibrations.map(({ at, c }) => ({ at, problem: c && calibrationProblem(c) })).find((x) => x.problem);
  if (bad) {
    model.dispose();
    throw new NonFiniteBundleError(
      `model bundle ${dir}: ${bad.problem} (bundle.json ${bad.at}); some scores would get no finite probability: retrain, or promote another version`,
    );
  }
  return bundleOf(tf, dir, { meta, spec, profile, golden }, model);
}

async function loadTrees(dir: string): Promise<TreeModel> {
  const model = treeModelFrom(await readJson<unknown>(dir, TREES_FILE), join(dir, TREES_FILE));
  const bad = nonFiniteTrees(model.json);
  if (bad)
    throw new NonFiniteBundleError(
      `model bundle ${dir}: ${TREES_FILE} ${bad} is not finite; some inputs would get no prediction (golden examples can miss them): retrain, or promote another version`,
    );
  return model;
}

async function loadNetwork(tf: TF, dir: string): Promise<tfjs.LayersModel> {
  const modelJson = await readJson<{
    modelTopology: object;
    weightsManifest: { weights: tfjs.io.WeightsManifestEntry[] }[];
  }>(dir, 'model.json');
  const weights = await readFile(join(dir, 'weights.bin')).catch(() => {
    throw new Error(
      `model bundle ${dir} has no weights.bin; it is incomplete — re-run training or fetch the version again from the registry`,
    );
  });
  checkWeightBytes(
    dir,
    modelJson.weightsManifest.flatMap((m) => m.weights),
    weights.byteLength,
  );
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((m) => m.weights),
      weightData,
    }),
  );

  const nonFinite = nonFiniteWeights(model);
  if (nonFinite) {
    model.dispose();
    throw new NonFiniteBundleError(
      `model bundle ${dir}: weight ${nonFinite.name} holds ${nonFinite.count} non-finite value(s) of ${nonFinite.size} (first at index ${nonFinite.first}); ` +
        'some inputs would get no prediction (golden examples can miss them): retrain, or promote another version',
    );
  }
  return model;
}

function bundleOf(tf: TF, dir: string, contents: BundleContents, model: BundleModel): LoadedBundle {
  const { meta, spec, profile, golden } = contents;
  const classes = spec.target.classes;
  const k = classes?.length ?? 1;
  const uncalibrated = { ...meta, calibration: undefined, raw: true };
  const predictTable = (table: Table, options: { raw?: boolean } = {}) =>
    outputsFromModel(tf, model, options.raw ? uncalibrated : meta, spec, table);
  const predictTableBoth = (table: Table) => {
    if (!isTreeModel(model)) return { calibrated: predictTable(table), raw: predictTable(table, { raw: true }) };
    const scores = treeScores(model, spec, table, encodeFeatures(spec, table));
    const outputs = (m: OutputMeta) =>
      scaled(scoresToOutputs(model.json.objective, scores, model.json.classes, m.calibration ?? null), m);
    return { calibrated: outputs(meta), raw: outputs(uncalibrated) };
  };
  const predictRecords = (records: unknown[]) => {
    const { table, errors } = recordsToTable(records, meta.input_schema);
    if (table.length === 0) return { predictions: [], errors, oov: {}, table };
    const enc = encodeFeatures(spec, table);
    const outputs = outputsFromEncoded(tf, model, meta, enc, spec, table);
    if (k > 1) {
      const probabilities = errors.map((e, i) => (e.length ? null : Array.from(outputs.subarray(i * k, (i + 1) * k))));
      const predictions = probabilities.map((p) => (p ? p.indexOf(Math.max(...p)) : null));
      return { predictions, probabilities, errors, oov: enc.oov, table };
    }
    const predictions = Array.from(outputs, (v, i) => (errors[i].length ? null : v));
    return { predictions, errors, oov: enc.oov, table };
  };
  return {
    dir,
    meta,
    spec,
    profile,
    golden,
    model,
    classes,
    predictTable,
    predictTableBoth,
    predictRecords,
    checkGolden(tolerance = 0) {
      if (golden.length === 0) return { ok: false, mismatches: [], problem: 'the bundle has no golden examples' };
      const { predictions, probabilities } = predictRecords(golden.map((g) => g.record));
      // Multi-class: every class probability is compared, each as its own golden output.
      const pairs = golden.flatMap((g, index) =>
        g.probabilities && probabilities
          ? g.probabilities.map((expected, c) => ({ index, expected, actual: probabilities[index]?.[c] ?? null }))
          : [{ index, expected: g.expected, actual: predictions[index] }],
      );
      const mismatches = pairs
        // Written as "not within", so a NaN on either side is a mismatch (NaN > tol is false).
        .filter(
          (m) =>
            m.actual === null ||
            !Number.isFinite(m.actual) ||
            !Number.isFinite(m.expected) ||
            !(Math.abs(m.actual - m.expected) <= tolerance),
        );
      if (!mismatches.length) return { ok: true, mismatches };
      const nonFinite = mismatches.filter((m) => m.actual === null || !Number.isFinite(m.actual)).length;
      // Counted in outputs (a multi-class example has one per class), the examples beside them.
      const of = `${pairs.length} golden outputs${pairs.length === golden.length ? '' : ` (${golden.length} examples)`}`;
      const problem = nonFinite
        ? `${nonFinite} of ${of} are non-finite or missing (e.g. NaN weights)`
        : `${mismatches.length} of ${of} differ by more than ${tolerance}`;
      return { ok: false, mismatches, problem };
    },
    dispose: () => model.dispose(),
  };
}
