import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { selectBackend } from './tfjs-backend.ts';
import { buildModel, layoutOf } from './network.ts';
import { encodeFeatures, fitFeatureSpec, type FeatureSpec } from './features.ts';
import { profileNumeric, profileTable } from './profile.ts';
import { recordsToTable, type InputSchema } from '../data/records.ts';
import { BUNDLE_FORMAT, loadBundle, outputsFromModel, saveBundle, type BundleProfile } from './bundle.ts';
import type { BundleMeta } from '../schemas/bundle-meta.ts';
import { FEATURE_SPEC_FILE, GOLDEN_FILE, PROFILE_FILE, parseArtifactFile } from './artifact-files.ts';
import { MetricsFileError } from '../schemas/metrics-files.ts';
import type { Params } from '../schemas/params.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const SCHEMA: InputSchema = {
  date: { type: 'timestamp', required: true },
  distance: { type: 'number', required: false },
  origin: { type: 'category', required: true },
};
// Three days of hourly flights: the hour is kept, the month (needs 2 cycles by default) is dropped.
const records = Array.from({ length: 72 }, (_, i) => ({
  date: new Date(Date.UTC(2001, 0, 1, i)).toISOString(),
  distance: 100 + ((i * 37) % 900),
  origin: ['ATL', 'ORD', 'SFO'][i % 3],
}));
const { table } = recordsToTable(records, SCHEMA);
const params = {
  data: { time_column: 'date' },
  task: { type: 'classification', target: 'delay', positive_above: 15 },
  features: {
    date: { kind: 'datetime', parts: ['hour', 'month'] },
    distance: { kind: 'numeric', transform: 'log', missing: 'median' },
    origin: { kind: 'categorical', min_frequency: 1, max_categories: 10 },
    origin_hour: { kind: 'cross', columns: ['origin', 'date.hour'], min_frequency: 1, max_categories: 100 },
  },
} as unknown as Params;
const spec = fitFeatureSpec(table, params);
const profile = profileTable(table, spec, { bins: 5, topCategories: 5 });

/** JSON as a file holds it (NaN becomes null, as in the writers). */
const asFile = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const featureAt = (s: FeatureSpec, kind: string) => s.features.findIndex((f) => f.kind === kind);

/** parseArtifactFile's error for `json`, or a failure when it is accepted. */
function refusal(kind: Parameters<typeof parseArtifactFile>[0], json: unknown): MetricsFileError {
  try {
    parseArtifactFile(kind, json, 'x/file.json', 'prepare');
  } catch (err) {
    assert.ok(err instanceof MetricsFileError, String(err));
    return err;
  }
  assert.fail(`${kind} was accepted: ${JSON.stringify(json).slice(0, 200)}`);
}

test('a fitted feature spec and its profile read back as written, with or without the dropped list', () => {
  assert.deepEqual(
    spec.dropped?.map((d) => d.feature),
    ['date.month'],
    'the fixture exercises `dropped`',
  );
  assert.deepEqual(parseArtifactFile('featureSpec', asFile(spec), 'x', 'prepare'), spec);
  const old = asFile(spec) as FeatureSpec;
  delete old.dropped;
  assert.equal(parseArtifactFile('featureSpec', old, 'x', 'prepare').dropped, undefined);
  assert.deepEqual(parseArtifactFile('referenceProfile', asFile(profile), 'x', 'prepare'), profile);
  // An all-missing numeric column profiles to NaN, stored as null and read back as NaN.
  const empty = profileNumeric({ type: 'number', values: Float64Array.from([NaN, NaN]) }, 5);
  const back = parseArtifactFile(
    'bundleProfile',
    asFile({ ...profile, predictions: empty }),
    'x',
    'train',
  ).predictions!;
  assert.ok(Number.isNaN(back.mean) && Number.isNaN(back.std) && Number.isNaN(back.quantiles[0].value));
  assert.deepEqual(back.histogram, empty.histogram);
});

test('a malformed feature spec or profile is refused naming the field', () => {
  const cat = featureAt(spec, 'categorical');
  const dt = featureAt(spec, 'datetime');
  const cross = featureAt(spec, 'cross');
  const withFeature = (i: number, change: Record<string, unknown>) => {
    const s = asFile(spec) as { features: Record<string, unknown>[] };
    s.features[i] = { ...s.features[i], ...change };
    return s;
  };
  const cases: [unknown, string, RegExp][] = [
    [withFeature(cat, { vocabulary: undefined }), `features.${cat}.vocabulary`, /expected array/],
    [withFeature(cat, { vocabulary: ['ATL', 'ORD'] }), `features.${cat}.vocabulary.0`, /<OOV>/],
    [
      withFeature(dt, { parts: ['hour', 'week'] }),
      `features.${dt}.parts.1`,
      /"hour"\|"day_of_week"\|"month"\|"day_of_month"/,
    ],
    [withFeature(dt, { kind: 'date' }), `features.${dt}.kind`, /discriminator/],
    [
      withFeature(cross, { columns: ['origin', 'date.month'] }),
      `features.${cross}.columns.1`,
      /"date\.month" is not a categorical feature or datetime part/,
    ],
    [{ ...(asFile(spec) as object), version: 2 }, 'version', /expected 1/],
    [{ ...(asFile(spec) as object), dropped: [{ feature: 'date.month' }] }, 'dropped.0.reason', /expected string/],
  ];
  for (const [json, field, message] of cases) {
    const err = refusal('featureSpec', json);
    assert.equal(err.field, field);
    assert.match(err.message, message);
    assert.match(
      err.message,
      /^x\/file\.json: field `.+`: .+; re-run the prepare stage \(npm run pipeline -- prepare\)$/,
    );
  }
  const distance = asFile(profile) as { features: { distance: { histogram: { counts: number[] } } } };
  distance.features.distance.histogram.counts.push(1);
  assert.equal(refusal('referenceProfile', distance).field, 'features.distance.histogram.counts');
  assert.equal(refusal('referenceProfile', { ...(asFile(profile) as object), rows: -1 }).field, 'rows');
  assert.equal(
    refusal('bundleProfile', { ...(asFile(profile) as object), predictions: { kind: 'categorical' } }).field,
    'predictions.kind',
  );
});

/** A small seeded (untrained) bundle of the fixture's spec and profile. */
async function writeBundle(dir: string): Promise<void> {
  const { tf, backend } = await selectBackend({});
  const model = buildModel(
    tf,
    layoutOf(encodeFeatures(spec, table)),
    { name: 'mlp', model: 'mlp', hidden: [4], embedding_dim: 2, learning_rate: 0.01 },
    'classification',
    3,
  );
  const meta: BundleMeta = {
    format_version: BUNDLE_FORMAT,
    name: 'm',
    task: 'classification',
    candidate: 'mlp',
    model_type: 'mlp',
    params: {},
    threshold: 0.5,
    metrics: { validation: {} },
    primary_metric: 'roc_auc',
    data_md5: null,
    git_commit: null,
    created_at: '2026-01-01T00:00:00.000Z',
    backend,
    input_schema: SCHEMA,
    rows: { train: table.length },
  };
  const out = outputsFromModel(tf, model, meta, spec, table);
  const bundleProfile: BundleProfile = {
    ...profile,
    predictions: profileNumeric({ type: 'number', values: Float64Array.from(out) }, 5),
  };
  await saveBundle(tf, dir, model, {
    meta,
    spec,
    profile: bundleProfile,
    golden: records.slice(0, 3).map((record, i) => ({ record, expected: out[i] })),
  });
  model.dispose();
}

test('loadBundle refuses a malformed feature-spec.json or reference-profile.json naming the file and field; an old spec without `dropped` loads', async () => {
  const { tf } = await selectBackend({});
  const root = await tempDir('artifact-files-');
  const dir = join(root, 'bundle');
  await writeBundle(dir);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the edits write deliberately malformed values (a string for a list) deep into the parsed JSON; no real type admits them
  const edit = async (file: string, change: (json: Record<string, any>) => void) => {
    const json = JSON.parse(await readFile(join(dir, file), 'utf8'));
    change(json);
    await writeFile(join(dir, file), JSON.stringify(json));
  };
  const loaded = await loadBundle(tf, dir);
  assert.equal(loaded.checkGolden().ok, true);
  loaded.dispose();

  const specText = await readFile(join(dir, FEATURE_SPEC_FILE), 'utf8');
  await edit(FEATURE_SPEC_FILE, (s) => delete s.dropped);
  const old = await loadBundle(tf, dir);
  assert.equal(old.spec.dropped, undefined);
  assert.equal(old.checkGolden().ok, true, 'the same model serves the same outputs');
  old.dispose();

  const cat = featureAt(spec, 'categorical');
  await edit(FEATURE_SPEC_FILE, (s) => delete s.features[cat].vocabulary);
  await assert.rejects(loadBundle(tf, dir), (err: MetricsFileError) => {
    assert.equal(err.file, join(dir, FEATURE_SPEC_FILE));
    assert.equal(err.field, `features.${cat}.vocabulary`);
    assert.match(err.message, /feature-spec\.json: field `features\.\d+\.vocabulary`: .*re-run the train stage/);
    return true;
  });
  await writeFile(join(dir, FEATURE_SPEC_FILE), specText);
  const dt = featureAt(spec, 'datetime');
  await edit(FEATURE_SPEC_FILE, (s) => (s.features[dt].parts = ['weekday']));
  await assert.rejects(loadBundle(tf, dir), { file: join(dir, FEATURE_SPEC_FILE), field: `features.${dt}.parts.0` });
  await writeFile(join(dir, FEATURE_SPEC_FILE), specText);

  await edit(PROFILE_FILE, (p) => (p.features.distance.quantiles = 'none'));
  await assert.rejects(loadBundle(tf, dir), {
    file: join(dir, PROFILE_FILE),
    field: 'features.distance.quantiles',
    message: /reference-profile\.json: field `features\.distance\.quantiles`/,
  });
  await rm(join(dir, PROFILE_FILE));
  await assert.rejects(loadBundle(tf, dir), {
    file: join(dir, PROFILE_FILE),
    message: /reference-profile\.json does not exist; re-run the train stage/,
  });
});

test('golden.json is read through its schema: a list of at least one { record, expected } with a finite output, errors naming the file and field', async () => {
  const where = 'bundle/golden.json';
  const parse = (json: unknown) => parseArtifactFile('golden', json, where, 'train');
  const ok = [{ record: { distance: 300, origin: 'ATL', date: null }, expected: 0.25, note: 'kept' }];
  assert.deepEqual(parse(ok), ok);
  const rejects = (json: unknown, field: string | null, message: RegExp) =>
    assert.throws(
      () => parse(json),
      (err: MetricsFileError) => {
        assert.equal(err.file, where);
        assert.equal(err.field, field);
        assert.match(err.message, message);
        assert.match(err.message, /re-run the train stage \(npm run pipeline -- train\)$/);
        return true;
      },
    );
  rejects({ record: {}, expected: 1 }, null, /^bundle\/golden\.json: top level: must be a list of golden examples/);
  rejects([], null, /top level: has no examples, so its golden outputs cannot be checked/);
  rejects([ok[0], { record: [1], expected: 1 }], '1.record', /field `1\.record`: must be an object of input fields/);
  rejects([{ record: null, expected: 1 }], '0.record', /must be an object of input fields/);
  // NaN weights give NaN outputs, which JSON writes as null.
  rejects([{ record: {}, expected: null }], '0.expected', /field `0\.expected`: must be a finite number/);
  rejects([{ record: {} }], '0.expected', /must be a finite number/);
  rejects([7], '0', /field `0`: /);

  const { tf } = await selectBackend({});
  const root = await tempDir('golden-file-');
  const dir = join(root, 'bundle');
  await writeBundle(dir);
  await writeFile(join(dir, GOLDEN_FILE), JSON.stringify([{ record: {}, expected: 'x' }]));
  await assert.rejects(loadBundle(tf, dir), { file: join(dir, GOLDEN_FILE), field: '0.expected' });
  await rm(join(dir, GOLDEN_FILE));
  await assert.rejects(loadBundle(tf, dir), { message: /golden\.json does not exist; re-run the train stage/ });
});
