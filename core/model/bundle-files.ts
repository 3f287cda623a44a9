/**
 * A bundle's files on disk: writing a bundle directory atomically, and reading its model files
 * back with every check that keeps a broken model from serving (missing files, weight bytes that
 * do not match the manifest, NaN or infinite weights and tree values). core/model/bundle.ts
 * assembles a loaded bundle from them.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { replaceDirAtomic } from '../platform/atomic.ts';
import { BUNDLE_META_FILE } from '../schemas/bundle-meta.ts';
import { FEATURE_SPEC_FILE, GOLDEN_FILE, PROFILE_FILE } from '../schemas/artifact-names.ts';
import { isTreeModel, nonFiniteTrees, treeModelFrom, TREES_FILE, type TreeModel } from './trees.ts';
import { isBlendModel, memberDir } from './blend.ts';
import { checkWeightBytes } from './bundle-checks.ts';
import type { BundleModel, SingleModel } from './bundle-outputs.ts';
import type { BundleContents } from './bundle.ts';

type TF = typeof tfjs;

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

export async function readJson<T>(dir: string, file: string): Promise<T> {
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

export async function loadTrees(dir: string): Promise<TreeModel> {
  const model = treeModelFrom(await readJson<unknown>(dir, TREES_FILE), join(dir, TREES_FILE));
  const bad = nonFiniteTrees(model.json);
  if (bad)
    throw new NonFiniteBundleError(
      `model bundle ${dir}: ${TREES_FILE} ${bad} is not finite; some inputs would get no prediction (golden examples can miss them): retrain, or promote another version`,
    );
  return model;
}

export async function loadNetwork(tf: TF, dir: string): Promise<tfjs.LayersModel> {
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
