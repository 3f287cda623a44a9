/**
 * Stage `validate`: raw store → typed, schema-checked rows (`artifacts/validated/`). Bad rows go to
 * `artifacts/validated/rejects.csv` with their reasons and source row numbers, counts to
 * `metrics/validate.json`. Too many rejects fail the stage and leave the previous outputs alone.
 */
import { join } from 'node:path';
import { writeMetricsFile } from '../../core/schemas/metrics-files.ts';
import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { replaceDirAtomic, writeFileAtomic } from '../../core/platform/atomic.ts';
import { openParquet, openParquetTableWriter, readParquetTable } from '../../core/data/parquet.ts';
import { cellValue, type Table } from '../../core/data/table.ts';
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

interface RawBatch {
  /** Index of the batch in the raw store's manifest (the `batch` column of rejects.csv). */
  index: number;
  /** Rows of the raw store before this batch (so row numbers stay those of the whole store). */
  offset: number;
  table: Table;
}

/**
 * The raw store one batch file at a time, every batch carrying the same columns (a CSV source's
 * batches may differ in which optional columns they saw), so validate holds one batch, not the store.
 */
export async function openRawStore(
  repoRoot: string,
): Promise<{ rows: number; batches: number; columns: string[]; read: () => AsyncGenerator<RawBatch> }> {
  const manifest = await readManifest(repoRoot);
  if (!manifest || manifest.batches.length === 0)
    throw new Error(
      `the raw store ${RAW_DIR}/ is empty; run \`npm run ingest\` (or \`npm run data:pull\` to fetch the tracked version)`,
    );
  // Only paths are kept, not each file's parsed footer: a store of N batches then costs N names.
  const paths = manifest.batches.map((b) => join(repoRoot, RAW_DIR, b.file));
  const seen = new Set<string>();
  for (const [i, b] of manifest.batches.entries()) {
    const source = await openParquet(paths[i]);
    if (source.rows !== b.rows)
      throw new Error(
        `${RAW_DIR}/${b.file} has ${source.rows} rows but manifest.json says ${b.rows}; restore it with \`npm run data:pull\``,
      );
    for (const c of source.columns) seen.add(c.name);
  }
  const columns = [...seen];
  return {
    rows: manifest.batches.reduce((n, b) => n + b.rows, 0),
    batches: paths.length,
    columns,
    async *read() {
      let offset = 0;
      for (const [index, path] of paths.entries()) {
        const table = alignColumns(await readParquetTable(path), columns);
        yield { index, offset, table };
        offset += table.length;
      }
    },
  };
}

function alignColumns(part: Table, names: string[]): Table {
  const columns: Table['columns'] = {};
  for (const n of names)
    columns[n] = part.columns[n] ?? { type: 'string', codes: new Int32Array(part.length).fill(-1), dict: [] };
  return { length: part.length, columns };
}

/** rejects.csv lines (no header) of one batch's rejected rows. */
export function rejectLines(result: ValidationResult, table: Table, batch: RawBatch): string {
  const rowCol = table.columns[ROW_COLUMN];
  let out = '';
  for (const r of result.rejects) {
    const reasons = [...new Set(r.problems.map((p) => p.reason))].join(';');
    const details = r.problems
      .slice(0, 5)
      .map(
        (p) =>
          `${p.column}: ${p.reason}${p.value === null ? '' : ` ${JSON.stringify(p.value.length > 60 ? p.value.slice(0, 57) + '...' : p.value)}`}`,
      )
      .join('; ');
    const row = rowCol ? cellValue(rowCol, r.index) : batch.offset + r.index + 1;
    out += [batch.index, row, reasons, csvCell(details)].join(',') + '\n';
  }
  return out;
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

type Counts = Record<string, number>;

/** What validate writes to metrics/validate.json, summed over the batches. */
export interface ValidationTotals {
  rowsIn: number;
  rowsValid: number;
  rowsRejected: number;
  byReason: Counts;
  byColumn: Record<string, Counts>;
  droppedColumns: string[];
}

/** Add one batch's counts; keys keep the order they were first met in (batch by batch), so the file is deterministic. */
export function addBatch(totals: ValidationTotals, result: ValidationResult): void {
  totals.rowsIn += result.rowsIn;
  totals.rowsValid += result.clean.length;
  totals.rowsRejected += result.rejects.length;
  for (const [k, v] of Object.entries(result.byReason)) totals.byReason[k] = (totals.byReason[k] ?? 0) + v;
  for (const [column, reasons] of Object.entries(result.byColumn)) {
    const into = (totals.byColumn[column] ??= {});
    for (const [k, v] of Object.entries(reasons)) into[k] = (into[k] ?? 0) + v;
  }
}

export function validationMetrics(totals: ValidationTotals, maxRejectRate: number) {
  return {
    rows_in: totals.rowsIn,
    rows_valid: totals.rowsValid,
    rows_rejected: totals.rowsRejected,
    reject_rate: totals.rowsIn ? round(totals.rowsRejected / totals.rowsIn) : 0,
    max_reject_rate: maxRejectRate,
    rejects_by_reason: totals.byReason,
    rejects_by_column: totals.byColumn,
    dropped_columns: totals.droppedColumns,
  };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * Validate the raw store batch by batch: each batch is checked, its clean rows appended to the
 * validated Parquet (written a row group at a time) and its rejects to rejects.csv, so memory holds
 * one batch and one row group whatever the store's size. The outputs appear only when the whole
 * store passed (replaceDirAtomic); a failure leaves the previous ones.
 */
export async function validate(options: {
  repoRoot: string;
  params: StageParams<typeof validateStage>;
  log: Logger;
}): Promise<ReturnType<typeof validationMetrics>> {
  const { repoRoot, log } = options;
  const params = validateStage.params(options.params);
  const schema = params.validate.schema;
  const store = await openRawStore(repoRoot);
  if (store.rows === 0)
    throw new Error(`the raw store has no records to validate; check the source and run \`npm run ingest\``);
  log.info(`validating ${store.rows} records in ${store.batches} batch(es) against validate.schema`);
  const totals: ValidationTotals = {
    rowsIn: 0,
    rowsValid: 0,
    rowsRejected: 0,
    byReason: {},
    byColumn: {},
    droppedColumns: store.columns.filter((c) => !schema[c] && !c.startsWith('__')),
  };
  let firstBad = '';
  let metrics: ReturnType<typeof validationMetrics> | undefined;
  await replaceDirAtomic(join(repoRoot, VALIDATED_DIR), async (dir) => {
    const rejectsPath = join(dir, REJECTS_FILE);
    const rejects = openSync(rejectsPath, 'w');
    const clean = await openParquetTableWriter(join(dir, VALIDATED_FILE));
    const progress = createProgress('validate', store.rows, { log, unit: 'records' });
    try {
      writeSync(rejects, 'batch,source_row,reasons,details\n');
      for await (const batch of store.read()) {
        const result = validateTable(batch.table, schema);
        addBatch(totals, result);
        clean.append(result.clean);
        if (result.rejects.length) writeSync(rejects, rejectLines(result, batch.table, batch));
        if (!firstBad && result.rejects.length) firstBad = describeReject(result.rejects[0], batch);
        progress.update(totals.rowsIn);
      }
      progress.finish();
      closeSync(rejects);
    } catch (err) {
      closeSync(rejects);
      await clean.abort();
      throw err;
    }
    metrics = validationMetrics(totals, params.validate.max_reject_rate);
    if (metrics.reject_rate > params.validate.max_reject_rate) {
      await clean.abort();
      const failedPath = join(repoRoot, '.pipeline', 'failed', 'validate-rejects.csv');
      await writeFileAtomic(failedPath, await readFile(rejectsPath));
      const top = Object.entries(totals.byReason)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
      throw new Error(
        `${metrics.rows_rejected} of ${metrics.rows_in} rows rejected (${(metrics.reject_rate * 100).toFixed(2)}% > validate.max_reject_rate ${(params.validate.max_reject_rate * 100).toFixed(2)}%): ${top}.${firstBad} ` +
          `All rejects: ${failedPath}. Fix the source data or the schema in params.yaml; previous outputs were kept.`,
      );
    }
    await clean.close();
  });
  for (const c of totals.droppedColumns) log.warn(`column "${c}" is not in validate.schema and is dropped`);
  await writeMetricsFile(repoRoot, 'validate', metrics!);
  log.info(
    `${metrics!.rows_valid} valid, ${metrics!.rows_rejected} rejected (${(metrics!.reject_rate * 100).toFixed(3)}%)`,
    { by_reason: totals.byReason },
  );
  return metrics!;
}

function describeReject(first: ValidationResult['rejects'][number], batch: RawBatch): string {
  const rowCol = batch.table.columns[ROW_COLUMN];
  const row = (rowCol ? cellValue(rowCol, first.index) : null) ?? batch.offset + first.index + 1;
  return ` First bad row: source row ${row}, ${first.problems.map((p) => `${p.column} ${p.reason}${p.value === null ? '' : ` "${p.value.slice(0, 40)}"`}`).join(', ')}.`;
}

if (isMain(import.meta.url)) {
  await runStage(validateStage, validate);
}
