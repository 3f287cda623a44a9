/**
 * Stage `validate`: raw store → typed, schema-checked rows (`artifacts/validated/`). Bad rows go to
 * `artifacts/validated/rejects.csv` with their reasons and source row numbers, counts to
 * `metrics/validate.json`. Too many rejects fail the stage and leave the previous outputs alone.
 */
import { join } from 'node:path';
import { writeMetricsFile } from '../../core/schemas/metrics-files.ts';
import { replaceDirAtomic, writeFileAtomic } from '../../core/platform/atomic.ts';
import { readParquetTable, writeParquetTable } from '../../core/data/parquet.ts';
import { concatTables, cellValue, type Table } from '../../core/data/table.ts';
import { validateTable, type ValidationResult } from '../../core/data/validation.ts';
import { ROW_COLUMN } from '../../core/data/csv.ts';
import { createProgress } from '../../core/platform/progress.ts';
import type { Logger } from '../../core/platform/log.ts';
import { readManifest } from '../contracts/raw-store.ts';
import { RAW_DIR, REJECTS_FILE, VALIDATED_DIR, VALIDATED_FILE } from '../contracts/paths.ts';
import { validateStage } from '../contracts/validate.ts';
import type { StageParams } from '../contracts/contract.ts';
import { isMain, runStage } from '../stage-cli.ts';

export { REJECTS_FILE, VALIDATE_METRICS, VALIDATED_DIR, VALIDATED_FILE } from '../contracts/paths.ts';

export async function readRawStore(
  repoRoot: string,
  log: Logger,
): Promise<{ table: Table; batchOfRow: (row: number) => number }> {
  const manifest = await readManifest(repoRoot);
  if (!manifest || manifest.batches.length === 0)
    throw new Error(
      `the raw store ${RAW_DIR}/ is empty; run \`npm run ingest\` (or \`npm run data:pull\` to fetch the tracked version)`,
    );
  const parts: Table[] = [];
  const progress = createProgress('read raw batches', manifest.batches.length, { log, unit: 'batches' });
  for (const [i, b] of manifest.batches.entries()) {
    const t = await readParquetTable(join(repoRoot, RAW_DIR, b.file));
    if (t.length !== b.rows)
      throw new Error(
        `${RAW_DIR}/${b.file} has ${t.length} rows but manifest.json says ${b.rows}; restore it with \`npm run data:pull\``,
      );
    parts.push(t);
    progress.update(i + 1);
  }
  progress.finish();
  const starts = manifest.batches.map((b) => b.range[0] - manifest.batches[0].range[0]);
  const batchOfRow = (row: number) => {
    let lo = 0,
      hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return { table: concatTables(alignColumns(parts)), batchOfRow };
}

/** Batches from a CSV source may differ in which optional columns they saw; align by name. */
function alignColumns(parts: Table[]): Table[] {
  const names = [...new Set(parts.flatMap((p) => Object.keys(p.columns)))];
  return parts.map((p) => {
    const columns = { ...p.columns };
    for (const n of names) {
      if (!columns[n]) columns[n] = { type: 'string', codes: new Int32Array(p.length).fill(-1), dict: [] };
    }
    return { length: p.length, columns: Object.fromEntries(names.map((n) => [n, columns[n]])) };
  });
}

export function rejectsCsv(result: ValidationResult, table: Table, batchOfRow: (row: number) => number): string {
  const lines = ['batch,source_row,reasons,details'];
  const rowCol = table.columns[ROW_COLUMN];
  for (const r of result.rejects) {
    const reasons = [...new Set(r.problems.map((p) => p.reason))].join(';');
    const details = r.problems
      .slice(0, 5)
      .map(
        (p) =>
          `${p.column}: ${p.reason}${p.value === null ? '' : ` ${JSON.stringify(p.value.length > 60 ? p.value.slice(0, 57) + '...' : p.value)}`}`,
      )
      .join('; ');
    const row = rowCol ? cellValue(rowCol, r.index) : r.index + 1;
    lines.push([batchOfRow(r.index), row, reasons, csvCell(details)].join(','));
  }
  return lines.join('\n') + '\n';
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function validationMetrics(result: ValidationResult, maxRejectRate: number) {
  const rejected = result.rejects.length;
  return {
    rows_in: result.rowsIn,
    rows_valid: result.clean.length,
    rows_rejected: rejected,
    reject_rate: result.rowsIn ? round(rejected / result.rowsIn) : 0,
    max_reject_rate: maxRejectRate,
    rejects_by_reason: result.byReason,
    rejects_by_column: result.byColumn,
    dropped_columns: result.droppedColumns,
  };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export async function validate(options: {
  repoRoot: string;
  params: StageParams<typeof validateStage>;
  log: Logger;
}): Promise<ReturnType<typeof validationMetrics>> {
  const { repoRoot, log } = options;
  const params = validateStage.params(options.params);
  const { table, batchOfRow } = await readRawStore(repoRoot, log);
  if (table.length === 0)
    throw new Error(`the raw store has no records to validate; check the source and run \`npm run ingest\``);
  log.info(`validating ${table.length} records against validate.schema`);
  const result = validateTable(table, params.validate.schema);
  const metrics = validationMetrics(result, params.validate.max_reject_rate);
  const rejects = rejectsCsv(result, table, batchOfRow);
  for (const c of result.droppedColumns) log.warn(`column "${c}" is not in validate.schema and is dropped`);
  if (metrics.reject_rate > params.validate.max_reject_rate) {
    const failedPath = join(repoRoot, '.pipeline', 'failed', 'validate-rejects.csv');
    await writeFileAtomic(failedPath, rejects);
    const top = Object.entries(result.byReason)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    const first = result.rejects[0];
    const example = first
      ? ` First bad row: source row ${cellValue(table.columns[ROW_COLUMN], first.index) ?? first.index + 1}, ${first.problems.map((p) => `${p.column} ${p.reason}${p.value === null ? '' : ` "${p.value.slice(0, 40)}"`}`).join(', ')}.`
      : '';
    throw new Error(
      `${metrics.rows_rejected} of ${metrics.rows_in} rows rejected (${(metrics.reject_rate * 100).toFixed(2)}% > validate.max_reject_rate ${(params.validate.max_reject_rate * 100).toFixed(2)}%): ${top}.${example} ` +
        `All rejects: ${failedPath}. Fix the source data or the schema in params.yaml; previous outputs were kept.`,
    );
  }
  await replaceDirAtomic(join(repoRoot, VALIDATED_DIR), async (dir) => {
    await writeParquetTable(join(dir, VALIDATED_FILE), result.clean);
    await writeFileAtomic(join(dir, REJECTS_FILE), rejects);
  });
  await writeMetricsFile(repoRoot, 'validate', metrics);
  log.info(
    `${metrics.rows_valid} valid, ${metrics.rows_rejected} rejected (${(metrics.reject_rate * 100).toFixed(3)}%)`,
    { by_reason: result.byReason },
  );
  return metrics;
}

if (isMain(import.meta.url)) {
  await runStage(validateStage, validate);
}
