/**
 * Test fixtures for the API built from core/ only (the API never imports training/): small seeded
 * bundles registered in a temporary registry (removed when the process exits), and a server
 * started on an ephemeral port.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { selectBackend } from '../../../core/model/tfjs-backend.ts';
import { fitFeatureSpec } from '../../../core/model/features.ts';
import { buildModel, layoutOf } from '../../../core/model/network.ts';
import { encodeFeatures } from '../../../core/model/features.ts';
import { outputsFromModel, saveBundle, BUNDLE_FORMAT } from '../../../core/model/bundle.ts';
import type { BundleMeta } from '../../../core/schemas/bundle-meta.ts';
import { recordsToTable, type InputSchema } from '../../../core/data/records.ts';
import { openRegistry, type Registry } from '../../../core/registry/index.ts';
import { profileNumeric, profileTable } from '../../../core/model/profile.ts';
import { memoryLogger } from '../../../core/platform/log.ts';
import type { Params } from '../../../core/schemas/params.ts';
import { loadConfig, type ApiConfig } from '../../../api/config.ts';
import { startServer, type RunningServer } from '../../../api/server.ts';
import { tempDir } from '../lifecycle.ts';

export const SCHEMA: InputSchema = {
  date: { type: 'timestamp', required: true, min: '2000-01-01', max: '2030-12-31' },
  distance: { type: 'number', required: true, min: 1, max: 6000 },
  origin: { type: 'category', required: true, pattern: '^[A-Z0-9]{3}$' },
};

export const RECORD = { date: '2001-01-09T14:35:00.000Z', distance: 733, origin: 'ATL' };
const AIRPORTS = ['ATL', 'ORD', 'DFW', 'LAX', 'SFO'];

export function sampleRecords(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    date: new Date(Date.UTC(2001, 0, 1, i % 24, i % 60)).toISOString(),
    distance: 100 + ((i * 37) % 2000),
    origin: AIRPORTS[i % 5],
  }));
}

/** The classes of the multi-class fixture (`makeBundle(dir, seed, { multiclass: true })`), in the spec's order. */
export const WEATHER = ['fog', 'rain', 'sun'];

/**
 * A bundle whose (untrained, seeded) weights differ per seed, so versions give different answers.
 * `multiclass`: a softmax model over WEATHER (target "weather", `task.classes: auto`).
 */
export async function makeBundle(
  dir: string,
  seed: number,
  options: { multiclass?: boolean; targetRange?: BundleMeta['target_range'] } = {},
): Promise<void> {
  const { tf, backend } = await selectBackend({});
  const k = options.multiclass ? WEATHER.length : 1;
  const records = sampleRecords(200).map((r, i) => ({ ...r, weather: WEATHER[i % WEATHER.length] }));
  const { table } = recordsToTable(records, {
    ...SCHEMA,
    ...(options.multiclass && { weather: { type: 'category', required: true } }),
  });
  // The sample records span one day: min_cycles 0 keeps the hour (its default, 2, needs two days).
  const params = {
    data: { source: 'test', format: 'auto', time_column: 'date' },
    task: options.multiclass
      ? { type: 'classification', target: 'weather', classes: 'auto' }
      : { type: 'classification', target: 'delay', positive_above: 15 },
    features: {
      date: { kind: 'datetime', parts: ['hour'], min_cycles: 0 },
      distance: { kind: 'numeric', transform: 'log', missing: 'median' },
      origin: { kind: 'categorical', min_frequency: 1, max_categories: 10 },
    },
  } as unknown as Params;
  const spec = fitFeatureSpec(table, params);
  const model = buildModel(
    tf,
    layoutOf(encodeFeatures(spec, table)),
    { name: 'mlp', model: 'mlp', hidden: [8], embedding_dim: 2, learning_rate: 0.01 },
    'classification',
    seed,
    k,
  );
  const meta: BundleMeta = {
    format_version: BUNDLE_FORMAT,
    name: 'flight-delay',
    task: 'classification',
    candidate: `seed-${seed}`,
    model_type: 'mlp',
    params: { seed },
    threshold: k > 1 ? undefined : 0.5,
    metrics: { validation: {} },
    primary_metric: k > 1 ? 'log_loss' : 'roc_auc',
    data_md5: null,
    git_commit: null,
    created_at: '2026-01-01T00:00:00.000Z',
    backend,
    input_schema: SCHEMA,
    ...(options.targetRange && { target_range: options.targetRange }),
    rows: { train: 200 },
  };
  const golden = sampleRecords(4).map((record) => ({ record, expected: 0 }));
  const out = outputsFromModel(
    tf,
    model,
    meta,
    spec,
    recordsToTable(
      golden.map((g) => g.record),
      SCHEMA,
    ).table,
  );
  const trainOut = outputsFromModel(tf, model, meta, spec, table);
  const inputs = profileTable(table, spec, { bins: 10, topCategories: 10 });
  const column = (c: number) => Float64Array.from({ length: table.length }, (_, r) => trainOut[r * k + c]);
  const profile =
    k > 1
      ? {
          ...inputs,
          prediction_classes: Object.fromEntries(
            WEATHER.map((w, c) => [w, profileNumeric({ type: 'number', values: column(c) }, 10)]),
          ),
        }
      : { ...inputs, predictions: profileNumeric({ type: 'number', values: column(0) }, 10) };
  const withOutputs = golden.map((g, i) => {
    if (k === 1) return { ...g, expected: out[i] };
    const probabilities = Array.from(out.subarray(i * k, (i + 1) * k));
    return { ...g, expected: probabilities.indexOf(Math.max(...probabilities)), probabilities };
  });
  await saveBundle(tf, dir, model, { meta, spec, profile, golden: withOutputs });
  model.dispose();
}

export async function registryWithVersions(
  seeds: number[],
  options: Parameters<typeof makeBundle>[2] = {},
): Promise<{ root: string; registry: Registry; url: string }> {
  const root = await tempDir('api-test-');
  const url = join(root, 'registry');
  const registry = await openRegistry(url, {});
  for (const seed of seeds) {
    const dir = join(root, `bundle-${seed}`);
    await makeBundle(dir, seed, options);
    await registry.register('flight-delay', dir, { metrics: {} }, { source: 'test' });
  }
  await registry.setStage('flight-delay', 'production', 1, { source: 'test', reason: 'test setup' });
  return { root, registry, url };
}

/** Register a bundle whose recorded golden outputs were tampered with: the API must refuse it. */
export async function registerTamperedBundle(registry: Registry, root: string): Promise<void> {
  const dir = join(root, 'bad');
  await makeBundle(dir, 5);
  const goldenPath = join(dir, 'golden.json');
  const golden = JSON.parse(await readFile(goldenPath, 'utf8'));
  golden[0].expected += 0.25;
  await chmod(goldenPath, 0o644);
  await writeFile(goldenPath, JSON.stringify(golden));
  await registry.register('flight-delay', dir, { metrics: {} }, { source: 'test' });
}

/** Register a bundle whose weights are all NaN (golden "expected" recorded as the JSON null NaN becomes). */
export async function registerNanBundle(registry: Registry, root: string): Promise<void> {
  const dir = join(root, 'nan');
  await makeBundle(dir, 6);
  const weightsPath = join(dir, 'weights.bin');
  const bytes = await readFile(weightsPath);
  await chmod(weightsPath, 0o644);
  await writeFile(weightsPath, Buffer.from(new Float32Array(bytes.length / 4).fill(NaN).buffer));
  await registry.register('flight-delay', dir, { metrics: {} }, { source: 'test' });
}

export async function startTestServer(
  registryUrl: string,
  root: string,
  env: Record<string, string> = {},
): Promise<RunningServer & { log: ReturnType<typeof memoryLogger>; config: ApiConfig }> {
  // Tests read /metrics, /drift and /feedback right after changing them: no read cache unless asked.
  const config = loadConfig({
    PORT: '0',
    REGISTRY_URL: registryUrl,
    POLL_INTERVAL_MS: '100000',
    MONITORING_CACHE_MS: '0',
    // The request-path warm-up is tested on its own (api/warm-up.test.ts); 2 s per server here is only time.
    WARM_UP_MS: '0',
    ...env,
  });
  const log = memoryLogger();
  const running = await startServer(config, { log, repoRoot: root });
  return { ...running, log, config };
}

/** JSON posts: the shared helper, here too for the API tests that import everything from this module. */
export { post } from '../lifecycle.ts';
