/**
 * The registry's documents, validated whenever they cross a boundary: caller metadata on
 * `register`, and every state document read back from disk or GCS (a hand-edited or truncated
 * file fails with the path of the bad field instead of deep inside a command).
 */
import { z } from 'zod';
import { MODEL_NAME_SOURCE, RegistryError, isSafeRelpath } from './names.ts';

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 time');
const jsonRecord = z.record(z.string(), z.unknown());

/** What the caller says about a version (training writes it; the registry never interprets it). */
export const versionMetaSchema = z
  .object({
    metrics: jsonRecord.default({}),
    params: jsonRecord.default({}),
    data_md5: z.string().nullable().default(null),
    git_commit: z.string().nullable().default(null),
    created_at: isoTime.nullable().default(null),
    extra: jsonRecord.default({}),
  })
  .strict();
export type VersionMetaInput = z.input<typeof versionMetaSchema>;
export type VersionMeta = z.output<typeof versionMetaSchema>;

export const bundleFileSchema = z.object({
  relpath: z.string().refine(isSafeRelpath, 'expected a relative path without empty, "." or ".." parts'),
  md5: z.string().regex(/^[0-9a-f]{32}$/),
  size: z.number().int().min(0),
});
export type BundleFile = z.infer<typeof bundleFileSchema>;

/** Where a version's files live (a key relative to the registry root) and what they must hash to. */
export const bundleManifestSchema = z.object({
  path: z.string().regex(new RegExp(`^bundles/${MODEL_NAME_SOURCE}/[0-9a-f]{32}$`), 'expected bundles/<model>/<md5>'),
  /** DVC's directory hash of the bundle (`<md5>.dir`): equal to what `dvc add` records for it. */
  md5: z.string().regex(/^[0-9a-f]{32}\.dir$/),
  size: z.number().int().min(0),
  nfiles: z.number().int().min(1),
  files: z.array(bundleFileSchema).min(1),
});
export type BundleManifest = z.infer<typeof bundleManifestSchema>;

export const versionRecordSchema = z.object({
  version: z.number().int().min(1),
  registered_at: isoTime,
  registered_by: z.string(),
  source: z.string(),
  ...versionMetaSchema.shape,
  bundle: bundleManifestSchema,
  /**
   * What the bundle computes, without when or from which commit it was built (see
   * bundle-files.ts `bundleContentMd5`): registering the same content again is a no-op. Null for
   * versions registered before it was recorded.
   */
  content_md5: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .nullable()
    .default(null),
});
export type VersionRecord = z.infer<typeof versionRecordSchema>;

export const EVENT_TYPES = ['register', 'promote', 'rollback', 'demote', 'archive'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const historyEventSchema = z.object({
  /** 1, 2, 3… in commit order; a gap or repeat means the history was tampered with. */
  seq: z.number().int().min(1),
  /** Id of the write that added the event: a retried write finds it and does not add it twice. */
  tx: z.string().min(1),
  type: z.enum(EVENT_TYPES),
  model: z.string(),
  /** The version the event is about: registered, now at the stage, demoted from it, archived. */
  version: z.number().int().min(1).nullable(),
  stage: z.string().nullable(),
  from: z.number().int().min(1).nullable(),
  to: z.number().int().min(1).nullable(),
  actor: z.string(),
  source: z.string(),
  reason: z.string().nullable(),
  at: isoTime,
  /** The GTO git tags that mirror this event. */
  tags: z.array(z.string()),
});
export type HistoryEvent = z.infer<typeof historyEventSchema>;

export const STATE_SCHEMA_VERSION = 1;

export const modelStateSchema = z.object({
  schema: z.literal(STATE_SCHEMA_VERSION),
  model: z.string(),
  /** Bumped by every committed change. */
  revision: z.number().int().min(0),
  updated_at: isoTime.nullable(),
  versions: z.array(versionRecordSchema),
  stages: z.record(z.string(), z.number().int().min(1)),
  archived: z.array(z.number().int().min(1)),
  history: z.array(historyEventSchema),
});
export type ModelState = z.infer<typeof modelStateSchema>;

export function parseVersionMeta(meta: unknown): VersionMeta {
  const parsed = versionMetaSchema.safeParse(meta ?? {});
  if (!parsed.success) throw new RegistryError(`invalid version metadata: ${describeIssues(parsed.error)}`, 'invalid');
  return parsed.data;
}

export function parseModelState(text: string, where: string): ModelState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RegistryError(
      `${where}: not valid JSON (${(err as Error).message}); restore it from a backup or from the bucket's object versions`,
      'corrupt',
    );
  }
  const parsed = modelStateSchema.safeParse(raw);
  if (!parsed.success)
    throw new RegistryError(`${where}: not a registry state document: ${describeIssues(parsed.error)}`, 'corrupt');
  return parsed.data;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
