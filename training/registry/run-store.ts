/**
 * A pipeline run's results for git, kept beside the version it registered: the files the run
 * changed in its checkout (dvc.lock, data.dvc, params.yaml, metrics/…). A run outside any checkout
 * (the trainer Job's pod) stores them here so that a person can commit them later and GTO can tag
 * the version at that commit. One JSON document per version (`runs/<model>/v<N>.json`), written
 * whole, with every file's bytes and md5: a reader gets all of a run's files or none, verified.
 * Beside the registry, not part of it (core/registry): the pipeline's register stage never stores
 * or reads them, only this CLI does, through the backend's writeDocument / readDocument.
 */
import { z } from 'zod';
import { md5Bytes } from '../../core/dvc/index.ts';
import { RegistryError, assertModelName, type Registry } from '../../core/registry/index.ts';

/** A relative `/`-separated path without empty, `.` or `..` parts (nothing outside the checkout). */
function isSafeRelpath(path: string): boolean {
  return path !== '' && !path.includes('\\') && path.split('/').every((p) => p !== '' && p !== '.' && p !== '..');
}

export const RUN_RESULTS_SCHEMA_VERSION = 1;

const runFileSchema = z.object({
  path: z.string().refine(isSafeRelpath, 'expected a relative path without empty, "." or ".." parts'),
  md5: z.string().regex(/^[0-9a-f]{32}$/),
  size: z.number().int().min(0),
  base64: z.string(),
});

export const runResultsSchema = z.object({
  schema: z.literal(RUN_RESULTS_SCHEMA_VERSION),
  model: z.string(),
  version: z.number().int().min(1),
  /** The version's bundle hash, which the stored dvc.lock records for the model's artifact path. */
  bundle_md5: z.string(),
  stored_at: z.string(),
  stored_by: z.string(),
  files: z.array(runFileSchema).min(1),
});
export type RunResultsDocument = z.infer<typeof runResultsSchema>;

export interface RunFile {
  /** Repository-relative, `/`-separated. */
  path: string;
  data: Buffer;
}

export interface RunResults {
  model: string;
  version: number;
  bundle_md5: string;
  stored_at: string;
  stored_by: string;
  files: RunFile[];
}

/** Where version `version`'s run results live, relative to the registry root. */
export function runResultsKey(model: string, version: number): string {
  return `runs/${assertModelName(model)}/v${version}.json`;
}

export function encodeRunResults(r: RunResults): Buffer {
  const doc: RunResultsDocument = {
    schema: RUN_RESULTS_SCHEMA_VERSION,
    model: r.model,
    version: r.version,
    bundle_md5: r.bundle_md5,
    stored_at: r.stored_at,
    stored_by: r.stored_by,
    files: r.files.map((f) => {
      if (!isSafeRelpath(f.path))
        throw new RegistryError(`run result ${JSON.stringify(f.path)} is not a relative path`, 'invalid');
      return { path: f.path, md5: md5Bytes(f.data), size: f.data.length, base64: f.data.toString('base64') };
    }),
  };
  return Buffer.from(JSON.stringify(doc, null, 1) + '\n');
}

/** Parse and verify a stored document (each file's size and md5); `where` names it in errors. */
export function decodeRunResults(bytes: Buffer, where: string): RunResults {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new RegistryError(`${where}: not valid JSON (${(err as Error).message})`, 'corrupt');
  }
  const parsed = runResultsSchema.safeParse(raw);
  if (!parsed.success)
    throw new RegistryError(
      `${where}: not a run results document: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
      'corrupt',
    );
  const doc = parsed.data;
  const files = doc.files.map((f) => {
    const data = Buffer.from(f.base64, 'base64');
    if (data.length !== f.size || md5Bytes(data) !== f.md5)
      throw new RegistryError(
        `${where}: ${f.path} is damaged (${data.length} bytes, md5 ${md5Bytes(data)}; recorded ${f.size} bytes, md5 ${f.md5})`,
        'corrupt',
      );
    return { path: f.path, data };
  });
  const { schema: _schema, files: _files, ...rest } = doc;
  return { ...rest, files };
}

/**
 * Store a run's results beside version `version` of `model` (replacing any stored before); `files`
 * should include the dvc.lock that records the version's bundle (the caller checks).
 */
export async function putRunResults(
  registry: Registry,
  model: string,
  version: number,
  files: RunFile[],
  by: { actor: string; at: Date },
): Promise<RunResults> {
  const info = await registry.getVersion(model, version);
  const results: RunResults = {
    model,
    version,
    bundle_md5: info.bundle.md5,
    stored_at: by.at.toISOString(),
    stored_by: by.actor,
    files,
  };
  await registry.backend.writeDocument(runResultsKey(model, version), encodeRunResults(results));
  return results;
}

/** The run results stored for version `version` of `model` (verified), or null when none were stored. */
export async function getRunResults(registry: Registry, model: string, version: number): Promise<RunResults | null> {
  await registry.getVersion(model, version);
  const key = runResultsKey(model, version);
  const bytes = await registry.backend.readDocument(key);
  return bytes === null ? null : decodeRunResults(bytes, `${registry.describe()}/${key}`);
}
