/**
 * Valid metrics files for tests: one base per file, overridden per test and checked by the file's
 * own schema in core/schemas/metrics-files.ts, so a fixture can never be something the readers refuse.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  locateMetricsFile,
  parseMetrics,
  type MetricsFile,
  type MetricsFileInput,
  type MetricsFileKind,
} from '../../../core/schemas/metrics-files.ts';

const confusion = { tp: 300, fp: 200, tn: 400, fn: 100 };

const BASES: { [K in MetricsFileKind]?: MetricsFileInput<K> } = {
  validate: {
    rows_in: 100,
    rows_valid: 90,
    rows_rejected: 10,
    reject_rate: 0.1,
    rejects_by_reason: { missing_value: 7, out_of_range: 3 },
  },
  prepare: { train_rows: 60, validation_rows: 15, test_rows: 15 },
  evaluate: {
    task: 'classification',
    model_name: 'flight-delay',
    candidate: 'mlp',
    threshold: 0.5,
    rows_test: 1000,
    primary_metric: 'roc_auc',
    higher_is_better: true,
    test: {
      accuracy: 0.7,
      precision: 0.6,
      recall: 0.75,
      f1: 0.6667,
      roc_auc: 0.8,
      log_loss: 0.55,
      threshold: 0.5,
      confusion,
    },
    baseline: { roc_auc: 0.5, log_loss: 0.69 },
    baseline_kind: 'prior',
  },
  register: {
    model_name: 'flight-delay',
    registry: 'registry',
    version: 1,
    decision: 'promoted',
    reason: 'first production model',
    primary_metric: 'roc_auc',
    production_before: null,
    gates: { latency: { passed: true, detail: 'p95 0.1 ms' } },
    gto_tags: ['flight-delay@v1.0.0', 'flight-delay#production#1'],
  },
  dataDrift: { status: 'no_production_model', production_version: null },
};

/** A valid `kind` file: its base with `over` on top (fields of `over` replace whole fields). */
export function metricsFixture<K extends MetricsFileKind>(
  kind: K,
  over: Partial<MetricsFileInput<K>> = {},
): MetricsFileInput<K> {
  const base = BASES[kind];
  if (!base) throw new Error(`no fixture base for ${kind}: add one to harness/testing/core/metrics-fixtures.ts`);
  const value = { ...base, ...over } as MetricsFileInput<K>;
  parseMetrics(kind, { json: value, where: `the ${kind} fixture` });
  return value;
}

/** The same, as a reader gets it (defaults filled in). */
export function parsedMetricsFixture<K extends MetricsFileKind>(
  kind: K,
  over: Partial<MetricsFileInput<K>> = {},
): MetricsFile<K> {
  return parseMetrics(kind, { json: metricsFixture(kind, over) });
}

/** Write `value` where `kind` lives inside `metricsDir` (a repository's `metrics/` or a METRICS_DIR). */
export async function writeMetricsFixtureFile<K extends MetricsFileKind>(
  metricsDir: string,
  kind: K,
  value: MetricsFileInput<K>,
): Promise<string> {
  const file = locateMetricsFile(kind, { dir: metricsDir }).file;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(value, null, 2));
  return file;
}
