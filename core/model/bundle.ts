/**
 * The model bundle: everything serving needs, in one directory, written by training and loaded by
 * the API through this file only. `loadBundle` gives a predictor that applies the bundle's own
 * feature spec with core/model/features.ts — the transform code training used — so there is no skew.
 * The outputs are computed in ./bundle-outputs.ts and the files written and read in
 * ./bundle-files.ts; this file re-exports what callers use from them, so they import one module.
 *
 *   model.json + weights.bin   tfjs layers model (networks), or
 *   trees.json                 the tree ensemble (model_type gbdt, core/model/trees.ts), or
 *   members/<i>/               a blend's member models, each as above (model_type blend, ./blend.ts)
 *   bundle.json                metadata: task, threshold, target scaling, metrics, params, lineage
 *   feature-spec.json          fitted transforms      reference-profile.json  inputs + predictions
 *   golden.json                example records with the outputs training computed for them
 */
import { join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { encodeFeatures, type FeatureSpec } from './features.ts';
import { calibrationProblem } from './calibration.ts';
import type { NumericProfile, ReferenceProfile } from './profile.ts';
import { recordsToTable, type FieldError } from '../data/records.ts';
import type { Table } from '../data/table.ts';
import { BUNDLE_META_FILE, parseBundleMeta, type BundleMeta } from '../schemas/bundle-meta.ts';
import { readArtifactFile } from './artifact-files.ts';
import { isTreeModel, prepareTrees, scoresToOutputs, treeScores, treeWalkOf, treeWalkProblem } from './trees.ts';
import { blendModel, isBlendModel, memberDir } from './blend.ts';
import { checkMemberDirs, checkOutputWidth } from './bundle-checks.ts';
import {
  outputsFromEncoded,
  outputsFromModel,
  scaled,
  type BundleModel,
  type OutputMeta,
  type SingleModel,
} from './bundle-outputs.ts';
import { loadNetwork, loadTrees, NonFiniteBundleError, readJson } from './bundle-files.ts';

export { outputsFromModel, type BundleModel, type SingleModel } from './bundle-outputs.ts';
export { NonFiniteBundleError, nonFiniteWeights, saveBundle } from './bundle-files.ts';

type TF = typeof tfjs;

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
  // A tree ensemble reads only its inputs' indices: crosses it has no input of are not encoded.
  const crosses = isTreeModel(model) ? new Set(model.json.inputs.map((i) => i.name)) : undefined;
  const predictRecords = (records: unknown[]) => {
    const { table, errors } = recordsToTable(records, meta.input_schema);
    if (table.length === 0) return { predictions: [], errors, oov: {}, table };
    const enc = encodeFeatures(spec, table, crosses);
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

/**
 * How the model's outputs are computed, for a server's log: trees through WebAssembly or the packed
 * walk (core/model/trees.ts), a network through the plain-JS forward pass; a blend lists its members.
 */
export function scoringOf(model: BundleModel): string {
  if (isBlendModel(model)) return model.members.map((m) => scoringOf(m.model)).join(' + ');
  if (!isTreeModel(model)) return 'network (js forward pass)';
  const problem = treeWalkProblem(model);
  return `trees (${treeWalkOf(model)}${problem ? `: WebAssembly failed: ${problem}` : ''})`;
}

/**
 * Compile a bundle's tree ensembles (a blend's too) to WebAssembly now, in the background as far
 * as V8 allows, so that they score through it from the first row: what a server does with a model
 * before it serves it. Elsewhere a model compiles once it has scored enough rows to pay for it
 * (core/model/trees.ts).
 */
export async function prepareBundleModel(model: BundleModel): Promise<void> {
  if (isBlendModel(model)) for (const m of model.members) await prepareBundleModel(m.model);
  else if (isTreeModel(model)) await prepareTrees(model);
}
