/**
 * Test fixture: a blend bundle (core/model/blend.ts) of two seeded network bundles from
 * ./support.ts makeBundle, the first member with a Platt calibration of its own, weights 1 : 3,
 * its golden outputs computed through the bundle's own output path.
 */
import { join } from 'node:path';
import { selectBackend } from '../../../core/model/tfjs-backend.ts';
import { loadBundle, outputsFromModel, saveBundle, type SingleModel } from '../../../core/model/bundle.ts';
import { blendModel } from '../../../core/model/blend.ts';
import { recordsToTable } from '../../../core/data/records.ts';
import type { BundleMeta } from '../../../core/schemas/bundle-meta.ts';
import { makeBundle, SCHEMA } from './support.ts';

export const BLEND_PLATT = { method: 'platt' as const, a: 2, b: 0.3 };

export async function makeBlendBundle(dir: string, seeds: [number, number]): Promise<void> {
  const { tf } = await selectBackend({});
  const parts = seeds.map((seed) => join(dir + '-parts', `seed-${seed}`));
  for (const [i, seed] of seeds.entries()) await makeBundle(parts[i], seed);
  const [a, b] = [await loadBundle(tf, parts[0]), await loadBundle(tf, parts[1])];
  const blend = blendModel([
    { model: a.model as SingleModel, meta: { calibration: BLEND_PLATT }, weight: 1 },
    { model: b.model as SingleModel, meta: {}, weight: 3 },
  ]);
  try {
    const meta: BundleMeta = {
      ...a.meta,
      candidate: `blend:seed-${seeds[0]}+seed-${seeds[1]}`,
      model_type: 'blend',
      blend: {
        members: [
          { candidate: `seed-${seeds[0]}`, model_type: 'mlp', weight: 0.25, calibration: BLEND_PLATT },
          { candidate: `seed-${seeds[1]}`, model_type: 'mlp', weight: 0.75 },
        ],
      },
    };
    const records = a.golden.map((g) => g.record);
    const out = outputsFromModel(tf, blend, meta, a.spec, recordsToTable(records, SCHEMA).table);
    const golden = records.map((record, i) => ({ record, expected: out[i] }));
    await saveBundle(tf, dir, blend, { meta, spec: a.spec, profile: a.profile, golden });
  } finally {
    blend.dispose();
  }
}
