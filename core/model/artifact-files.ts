/**
 * The JSON manifests a stage hands to the next beside its data: `feature-spec.json` (the fitted
 * transforms, core/model/features.ts) and `reference-profile.json` (the training inputs' profile,
 * core/model/profile.ts, plus the predictions' in a model bundle). Written by prepare (in
 * `artifacts/prepared/`) and copied into the bundle by train; read by train, the bundle loader
 * (API, evaluate, register, scoring), batch drift and the drift benchmark — all through this
 * file, checked the way metrics files are (core/schemas/metrics-files.ts): a malformed one fails with one
 * error naming the file, the field and the stage to re-run. A bundle's `golden.json` (its golden
 * examples, written by train, read by the bundle loader) is read the same way.
 *
 * The TypeScript interfaces stay the types the rest of the code uses; each schema is declared as
 * a `z.ZodType` of its interface, so a schema that no longer gives what the interface says does
 * not compile. Objects keep fields the schema does not name (a newer writer may add some).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { OOV_TOKEN, type FeatureSpec } from './features.ts';
import { histogramBinCount, type NumericProfile, type ReferenceProfile } from './profile.ts';
import type { BundleProfile, GoldenExample } from './bundle.ts';
import { checkJson, readJsonFile, valueOf } from '../schemas/metrics-files.ts';

import { FEATURE_SPEC_FILE, GOLDEN_FILE, PROFILE_FILE } from '../schemas/artifact-names.ts';
import { DATETIME_PARTS } from '../schemas/params.ts';

export { FEATURE_SPEC_FILE, GOLDEN_FILE, PROFILE_FILE };

const num = z.number();
const count = z.number().int().min(0);
/** JSON has no NaN: the writer's NaN (e.g. the mean of an all-missing column) is stored as null and read back as NaN. */
const numberOrNaN = z
  .number()
  .nullable()
  .transform((v) => v ?? NaN);

/** Index 0 of every vocabulary is the out-of-vocabulary bucket (core/model/features.ts). */
const vocabulary = z
  .array(z.string())
  .min(1)
  .refine((v) => v[0] === OOV_TOKEN, {
    message: `entry 0 must be "${OOV_TOKEN}" (the out-of-vocabulary bucket)`,
    path: [0],
  });

const featureDefSchema = z.discriminatedUnion('kind', [
  z.looseObject({
    kind: z.literal('numeric'),
    name: z.string(),
    transform: z.enum(['standard', 'log']),
    mean: num,
    std: num,
    fill: num,
    min: num,
    max: num,
  }),
  z.looseObject({ kind: z.literal('categorical'), name: z.string(), vocabulary, min_frequency: num }),
  z.looseObject({ kind: z.literal('datetime'), name: z.string(), parts: z.array(z.enum(DATETIME_PARTS)) }),
  z.looseObject({
    kind: z.literal('cross'),
    name: z.string(),
    columns: z.array(z.string()).min(1),
    vocabulary,
    min_frequency: num,
  }),
]);

export const featureSpecSchema: z.ZodType<FeatureSpec, unknown> = z
  .looseObject({
    version: z.literal(1),
    features: z.array(featureDefSchema),
    /** Absent in specs written before fitting could leave features out. */
    dropped: z.array(z.looseObject({ feature: z.string(), reason: z.string() })).optional(),
    target: z.looseObject({
      column: z.string(),
      type: z.enum(['classification', 'regression']),
      positive_above: num.optional(),
      /** Binary by label; absent in specs written before (numeric threshold only). */
      positive_class: z.string().optional(),
      /** Multi-class: the class vocabulary fitted on train, in output order; absent in binary and regression specs. */
      classes: z.array(z.string()).min(3).optional(),
    }),
    time_column: z.string(),
  })
  .superRefine((spec, ctx) => {
    // A cross combines categorical features and datetime parts of the same spec (core/model/features.ts encodeCross).
    const components = new Set(
      spec.features.flatMap((f) =>
        f.kind === 'categorical' ? [f.name] : f.kind === 'datetime' ? f.parts.map((p) => `${f.name}.${p}`) : [],
      ),
    );
    spec.features.forEach((f, i) => {
      if (f.kind !== 'cross') return;
      f.columns.forEach((c, j) => {
        if (!components.has(c))
          ctx.addIssue({
            code: 'custom',
            path: ['features', i, 'columns', j],
            message: `"${c}" is not a categorical feature or datetime part of this spec (it has: ${[...components].join(', ')})`,
          });
      });
    });
  });

const numericProfileObject = z
  .looseObject({
    kind: z.literal('numeric'),
    count,
    missing: count,
    mean: numberOrNaN,
    std: numberOrNaN,
    min: numberOrNaN,
    max: numberOrNaN,
    quantiles: z.array(z.looseObject({ q: num, value: numberOrNaN })),
    histogram: z.looseObject({ edges: z.array(num), counts: z.array(count) }),
  })
  // core/model/profile.ts histogramBinCount: edges.length − 1 bins, and one bin when there are no edges (no finite values).
  .refine((p) => p.histogram.counts.length === histogramBinCount(p.histogram.edges), {
    message: 'needs one count per bin between its edges (edges.length − 1, at least 1)',
    path: ['histogram', 'counts'],
  });
const numericProfileSchema: z.ZodType<NumericProfile, unknown> = numericProfileObject;
const categoricalProfileSchema = z.looseObject({
  kind: z.literal('categorical'),
  count,
  missing: count,
  distinct: count,
  top: z.array(z.looseObject({ value: z.string(), count })),
  other: count,
});
const referenceProfileShape = {
  version: z.literal(1),
  rows: count,
  features: z.record(z.string(), z.discriminatedUnion('kind', [numericProfileObject, categoricalProfileSchema])),
};
export const referenceProfileSchema: z.ZodType<ReferenceProfile, unknown> = z.looseObject(referenceProfileShape);
/** A bundle's profile: the training inputs' plus its predictions' on the train split. */
export const bundleProfileSchema: z.ZodType<BundleProfile, unknown> = z.looseObject({
  ...referenceProfileShape,
  predictions: numericProfileSchema.optional(),
  prediction_classes: z.record(z.string(), numericProfileSchema).optional(),
});

/**
 * A bundle's golden examples: at least one, each a record (an object of input fields) with the
 * finite output training computed for it. An empty or non-finite set would let any model (NaN
 * weights included) pass the golden check.
 */
export const goldenSchema: z.ZodType<GoldenExample[], unknown> = z
  .array(
    z.looseObject({
      record: z.record(z.string(), z.unknown(), { error: 'must be an object of input fields' }),
      expected: z.number({ error: 'must be a finite number (the output training computed for the record)' }),
      probabilities: z.array(z.number()).optional(),
    }),
    { error: 'must be a list of golden examples, each { "record": {...}, "expected": <number> }' },
  )
  .min(1, 'has no examples, so its golden outputs cannot be checked');

/** Each manifest: its file name inside a stage's directory or a bundle, and its schema. */
export const ARTIFACT_FILES = {
  featureSpec: { file: FEATURE_SPEC_FILE, schema: featureSpecSchema },
  referenceProfile: { file: PROFILE_FILE, schema: referenceProfileSchema },
  bundleProfile: { file: PROFILE_FILE, schema: bundleProfileSchema },
  golden: { file: GOLDEN_FILE, schema: goldenSchema },
} as const;
export type ArtifactFileKind = keyof typeof ARTIFACT_FILES;
export type ArtifactFile<K extends ArtifactFileKind> =
  (typeof ARTIFACT_FILES)[K]['schema'] extends z.ZodType<infer T, unknown> ? T : never;

/** Validate parsed JSON as `kind`; `where` names it in the error, `stage` (its writer) says what to re-run. */
export function parseArtifactFile<K extends ArtifactFileKind>(
  kind: K,
  json: unknown,
  where: string,
  stage: string,
): ArtifactFile<K> {
  return valueOf(checkJson(json, ARTIFACT_FILES[kind].schema as z.ZodType<ArtifactFile<K>, unknown>, { where, stage }));
}

/** Read and validate `kind` at `file` (named by that path in errors), written by `stage`; a missing file is an error too. */
export async function readArtifactFileAt<K extends ArtifactFileKind>(
  file: string,
  kind: K,
  stage: string,
): Promise<ArtifactFile<K>> {
  return valueOf(
    await readJsonFile(file, ARTIFACT_FILES[kind].schema as z.ZodType<ArtifactFile<K>, unknown>, {
      where: file,
      stage,
    }),
  );
}

/** Read and validate `kind` under its file name in `dir` (a prepared-data directory or a model bundle). */
export function readArtifactFile<K extends ArtifactFileKind>(
  dir: string,
  kind: K,
  stage: string,
): Promise<ArtifactFile<K>> {
  return readArtifactFileAt(join(dir, ARTIFACT_FILES[kind].file), kind, stage);
}
