/**
 * The registry the cluster run serves: two small real models trained on the first flights of the
 * bundled data (January 2001) by the project's own stages (ingest → validate → prepare → train),
 * registered in a registry of the run's temporary directory, version 1 in production. Version 2
 * (another seed and width) is what the run promotes mid-way. Small on purpose (two batches of
 * 15,000 flights, two epochs): the run is about the fleet, not the model's quality.
 */
import { join } from 'node:path';
import { readFile, rename } from 'node:fs/promises';
import { parseParams, type Params } from '../../core/schemas/params.ts';
import { openRegistry } from '../../core/registry/index.ts';
import { memoryLogger } from '../../core/platform/log.ts';
import { ingest } from '../../training/stages/ingest.ts';
import { validate } from '../../training/stages/validate.ts';
import { prepare } from '../../training/stages/prepare.ts';
import { train } from '../../training/stages/train.ts';
import { MODEL_DIR } from '../../training/contracts/paths.ts';

export const MODEL_NAME = 'flight-delay';

export interface ClusterRegistry {
  url: string;
  /** The versions registered: production first, then the one the run promotes. */
  production: number;
  promoted: number;
}

async function clusterParams(repo: string, seed: number, hidden: number[]): Promise<Params> {
  const base = parseParams(await readFile(new URL('../../params.yaml', import.meta.url), 'utf8'));
  return {
    ...base,
    data: { ...base.data, source: 'vega-datasets:data/flights-3m.parquet' },
    ingest: { batch_size: 15_000, batches_per_run: 2, max_batches: 2 },
    // The hour only (two batches span ~6 days: no weekly or monthly cycle), no crosses.
    features: {
      date: { kind: 'datetime', parts: ['hour'], min_cycles: 2 },
      distance: { kind: 'numeric', transform: 'log', missing: 'median' },
      origin: { kind: 'categorical', min_frequency: 20, max_categories: 100 },
      destination: { kind: 'categorical', min_frequency: 20, max_categories: 100 },
    },
    register: { ...base.register!, registry: join(repo, 'registry') },
    train: {
      ...base.train!,
      seed,
      max_epochs: 2,
      patience: 1,
      batch_size: 1024,
      golden_examples: 4,
      candidates: [{ name: 'mlp', model: 'mlp', hidden, embedding_dim: 4, learning_rate: 0.01 }],
    },
  };
}

/** Trains the two versions in `repo` (an empty directory) and registers them; version 1 in production. */
export async function buildClusterRegistry(repo: string, say: (m: string) => void): Promise<ClusterRegistry> {
  const log = memoryLogger();
  const url = join(repo, 'registry');
  const registry = await openRegistry(url, {});
  const versions: number[] = [];
  for (const [i, [seed, hidden]] of (
    [
      [42, [16]],
      [7, [32, 16]],
    ] as const
  ).entries()) {
    const started = performance.now();
    const params = await clusterParams(repo, seed, [...hidden]);
    if (i === 0) {
      await ingest({ repoRoot: repo, params, log, track: async () => {} });
      await validate({ repoRoot: repo, params, log });
      await prepare({ repoRoot: repo, params, log });
    }
    await train({ repoRoot: repo, params, log });
    const bundle = join(repo, `bundle-${i + 1}`);
    await rename(join(repo, MODEL_DIR), bundle);
    const v = await registry.register(MODEL_NAME, bundle, { metrics: {} }, { source: 'cluster:rehearse' });
    versions.push(v.version);
    say(
      `model v${v.version} trained (seed ${seed}, hidden ${hidden.join('×')}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  await registry.setStage(MODEL_NAME, 'production', versions[0], {
    source: 'cluster:rehearse',
    reason: 'cluster run: the starting production model',
  });
  return { url, production: versions[0], promoted: versions[1] };
}
