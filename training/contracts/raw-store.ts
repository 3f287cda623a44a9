/**
 * The raw store's manifest (`data/manifest.json`): which batch files hold which slice of the
 * time-ordered source. Written by `npm run ingest`, read by `validate` and the report.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MANIFEST_FILE, RAW_DIR } from './paths.ts';

const batchSchema = z.object({
  file: z.string(),
  rows: z.number().int(),
  /** Positions [start, end) in the time-ordered source. */
  range: z.tuple([z.number().int(), z.number().int()]),
  first_time: z.string().nullable(),
  last_time: z.string().nullable(),
});
export const manifestSchema = z.object({
  format: z.literal(1),
  source: z.object({
    uri: z.string(),
    format: z.enum(['csv', 'parquet', 'json']),
    size: z.number(),
    rows: z.number(),
    etag: z.string().optional(),
  }),
  time_column: z.string(),
  batch_size: z.number().int(),
  batches: z.array(batchSchema),
});
export type RawManifest = z.infer<typeof manifestSchema>;

/** The manifest, or null when the raw store has none yet. */
export async function readManifest(repoRoot: string): Promise<RawManifest | null> {
  const path = join(repoRoot, RAW_DIR, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  const parsed = manifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(
      `${path} is damaged (${parsed.error.issues[0]?.message}); restore it with \`npm run data:pull\` or delete ${RAW_DIR}/ to re-ingest`,
    );
  return parsed.data;
}
