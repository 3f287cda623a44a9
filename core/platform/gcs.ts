/**
 * The part of @google-cloud/storage this project uses, as one interface for everything that
 * talks to GCS: the DVC remote and data sources (core/platform/storage.ts, core/data/materialize.ts) and the
 * model registry (core/registry/gcs-backend.ts). The real client fits it (core/platform/storage.test.ts
 * checks); tests pass the in-memory harness/testing/core/fake-gcs.ts.
 */
import type { Readable } from 'node:stream';

export interface GcsFileMetadata {
  size?: string | number;
  etag?: string;
  md5Hash?: string;
  generation?: string | number;
}
export interface GcsSaveOptions {
  resumable?: boolean;
  contentType?: string;
  metadata?: { cacheControl?: string };
  /** `ifGenerationMatch: 0`: only if the object does not exist. */
  preconditionOpts?: { ifGenerationMatch?: number | string };
}
export interface GcsFile {
  name: string;
  exists(): Promise<[boolean]>;
  getMetadata(): Promise<[GcsFileMetadata, ...unknown[]]>;
  download(): Promise<[Buffer, ...unknown[]]>;
  save(data: string | Buffer, options?: GcsSaveOptions): Promise<void>;
  createReadStream(): Readable;
}
export interface GcsBucket {
  file(name: string): GcsFile;
  upload(localPath: string, options: { destination: string; resumable?: boolean }): Promise<unknown>;
  getFiles(query: { prefix: string }): Promise<[GcsFile[], ...unknown[]]>;
}
export interface GcsClient {
  bucket(name: string): GcsBucket;
}

let defaultGcsClient: Promise<GcsClient> | undefined;
/** The real client, created on first use so that nothing loads it unless gs:// is used. */
export function defaultGcs(): Promise<GcsClient> {
  defaultGcsClient ??= import('@google-cloud/storage').then((m) => new m.Storage() as unknown as GcsClient);
  return defaultGcsClient;
}
