/**
 * A bench's scratch repository as the pipeline's validate and prepare stages leave it: the table of
 * `params.data.source` validated (VALIDATED_DIR) and prepared (the split files in PREPARED_DIR).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Params } from '../../../core/schemas/params.ts';
import type { Logger } from '../../../core/platform/log.ts';
import { writeParquetTable } from '../../../core/data/parquet.ts';
import { validateTable } from '../../../core/data/validation.ts';
import type { FeatureSpec } from '../../../core/model/features.ts';
import { VALIDATED_DIR, VALIDATED_FILE } from '../../../training/contracts/paths.ts';
import { openSource } from '../../../training/sources.ts';
import { prepare } from '../../../training/stages/prepare.ts';

/** Validates and prepares the source into `tmp`; relative source paths are read from `repoRoot`. */
export async function prepareInto(
  tmp: string,
  params: Params,
  repoRoot: string,
  log: Logger,
): Promise<{ spec: FeatureSpec; rowsIn: number; rejected: number }> {
  const source = await openSource(params.data.source, params.data.format, {
    repoRoot,
    log,
    maxFieldBytes: params.validate.max_field_bytes,
  });
  const raw = await source.readRange(0, source.rows);
  const typed = validateTable(raw, params.validate.schema);
  await mkdir(join(tmp, VALIDATED_DIR), { recursive: true });
  await writeParquetTable(join(tmp, VALIDATED_DIR, VALIDATED_FILE), typed.clean);
  const { spec } = await prepare({ repoRoot: tmp, params, log });
  return { spec, rowsIn: raw.length, rejected: typed.rejects.length };
}
