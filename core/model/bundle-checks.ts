/**
 * Load-time checks that a bundle's model files agree with each other and with bundle.json, so a
 * damaged bundle is refused at load naming the file at fault, not later by a shape error inside
 * tfjs or a blend whose members disagree on the first request.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { isTreeModel, TREES_FILE, type TreeModel } from './trees.ts';
import { memberDir } from './blend.ts';

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * The bytes model.json's weights manifest needs from weights.bin, or a reason it cannot be told
 * (an unknown dtype or quantisation: tfjs then decides).
 */
function manifestBytes(weights: readonly tfjs.io.WeightsManifestEntry[]): number | undefined {
  let bytes = 0;
  for (const w of weights) {
    const size = DTYPE_BYTES[w.dtype];
    if (size === undefined || w.quantization) return undefined;
    bytes += w.shape.reduce((a, b) => a * b, 1) * size;
  }
  return bytes;
}

/** weights.bin must hold exactly what model.json's manifest describes (a truncated copy otherwise fails inside tfjs without a file name). */
export function checkWeightBytes(dir: string, weights: readonly tfjs.io.WeightsManifestEntry[], actual: number): void {
  const needed = manifestBytes(weights);
  if (needed !== undefined && needed !== actual)
    throw new Error(
      `model bundle ${dir}: weights.bin holds ${actual} bytes but model.json's weights manifest needs ${needed}; the file is truncated or from another model: re-run training or fetch the version again from the registry`,
    );
}

/** Outputs per row: 1 (a probability or a value), or one per class. */
function outputWidth(model: tfjs.LayersModel | TreeModel): number | undefined {
  if (isTreeModel(model)) return model.json.classes;
  const shape = model.outputs[0]?.shape;
  return shape?.[shape.length - 1] ?? undefined;
}

/** A model must give one output per class of feature-spec.json's target (or one): a blend's members are averaged output by output. */
export function checkOutputWidth(dir: string, model: tfjs.LayersModel | TreeModel, classes: number): void {
  const width = outputWidth(model);
  if (width !== undefined && width !== classes)
    throw new Error(
      `model bundle ${dir}: ${isTreeModel(model) ? TREES_FILE : 'model.json'} gives ${width} output(s) per row but feature-spec.json's target has ${classes}; the files come from different trainings: re-run training or fetch the version again from the registry`,
    );
}

/** A blend's members/ holds exactly the directories bundle.json describes: a stray one means the two disagree. */
export async function checkMemberDirs(dir: string, members: number): Promise<void> {
  const expected = new Set(Array.from({ length: members }, (_, i) => memberDir(i).split('/')[1]));
  let found: string[];
  try {
    found = await readdir(join(dir, 'members'));
  } catch {
    found = [];
  }
  const stray = found.filter((f) => !expected.has(f)).sort();
  if (stray.length)
    throw new Error(
      `model bundle ${dir}: members/${stray[0]} is not among the ${members} blend members bundle.json describes; the files and bundle.json come from different trainings: re-run training or fetch the version again from the registry`,
    );
}
