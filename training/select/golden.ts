/**
 * What the bundle says about its inputs: the input schema it accepts and the golden examples
 * (test rows with their expected outputs) that the API must reproduce exactly.
 */
import { outputsFromModel, type GoldenExample } from '../../core/model/bundle.ts';
import type { BundleMeta } from '../../core/schemas/bundle-meta.ts';
import type { FeatureSpec } from '../../core/model/features.ts';
import { recordAt, recordsToTable, type InputSchema } from '../../core/data/records.ts';
import type { Table } from '../../core/data/table.ts';
import { multiclassGolden } from '../train-multiclass.ts';

export function goldenExamples(
  tf: Parameters<typeof outputsFromModel>[0],
  model: Parameters<typeof outputsFromModel>[1],
  meta: Pick<BundleMeta, 'target_scaler' | 'input_schema'>,
  spec: FeatureSpec,
  test: Table,
  count: number,
): GoldenExample[] {
  const fields = Object.keys(meta.input_schema);
  const step = Math.max(1, Math.floor(test.length / count));
  const records = Array.from({ length: Math.min(count, test.length) }, (_, i) => recordAt(test, i * step, fields));
  // Expected outputs go through the same record → table path as serving.
  const { table, errors } = recordsToTable(records, meta.input_schema);
  const bad = errors.findIndex((e) => e.length);
  if (bad >= 0)
    throw new Error(
      `golden example ${bad} from the test split does not pass the input schema: ${errors[bad].map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  const out = outputsFromModel(tf, model, meta, spec, table);
  if (spec.target.classes) return multiclassGolden(records, out, spec.target.classes.length);
  return records.map((record, i) => ({ record, expected: out[i] }));
}

/**
 * The fields a bundle accepts: each input column of the spec with its validate.schema rule. A
 * column whose every datetime part was left out (min_cycles) stays accepted, optional and unused,
 * so clients that send it are not refused by a model trained on a short period.
 */
export function inputSchemaOf(spec: FeatureSpec, schema: InputSchema): InputSchema {
  const fields = Object.fromEntries(
    spec.features.filter((f) => f.kind !== 'cross').map((f) => [f.name, schema[f.name]]),
  );
  for (const d of spec.dropped ?? []) {
    const column = d.feature.split('.')[0];
    if (!(column in fields) && schema[column]) fields[column] = { ...schema[column], required: false };
  }
  return fields;
}
