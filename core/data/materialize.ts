/**
 * Turn a data source URI into a local file: local paths are used in place, `https://` and
 * `gs://` objects are downloaded (streaming, through a temp file + rename) into a cache dir and
 * reused while the server's ETag and size are unchanged. The fingerprint lets callers record
 * exactly which bytes they read.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { writeJsonAtomic } from '../platform/atomic.ts';
import type { Logger } from '../platform/log.ts';
import { parseGsUrl, writeViaTemp } from '../platform/storage.ts';
import { defaultGcs, type GcsClient } from '../platform/gcs.ts';
import { type CredentialCheckOptions, findCredentials, HOW_TO_AUTHENTICATE } from '../platform/gcp-credentials.ts';
import { md5Meter } from '../dvc/hash.ts';

export interface SourceFingerprint {
  uri: string;
  size: number;
  etag?: string;
  mtimeMs?: number;
  md5?: string;
}

export interface MaterializedSource {
  path: string;
  fingerprint: SourceFingerprint;
  /** True when a cached download was reused without transferring the body. */
  reused?: boolean;
}

export interface MaterializeOptions {
  cacheDir: string;
  /** Base for relative local paths; defaults to the current directory. */
  baseDir?: string;
  log?: Logger;
  storage?: GcsClient;
  fetchImpl?: typeof fetch;
  /** Where the real GCS client's credentials are looked for (default: this process's env, the metadata server). */
  credentials?: CredentialCheckOptions;
}

interface CacheMeta {
  uri: string;
  size: number;
  etag?: string;
  md5?: string;
  mtimeMs: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function cachePaths(cacheDir: string, uri: string, remotePath: string): { file: string; meta: string } {
  const id = createHash('sha256').update(uri).digest('hex').slice(0, 16);
  const name = (basename(remotePath) || 'download').replace(/[^A-Za-z0-9._-]/g, '_');
  const file = join(resolve(cacheDir), `${id}-${name}`);
  return { file, meta: `${file}.meta.json` };
}

/** The cached copy, if its sidecar says it is still the file we downloaded. */
async function readCached(paths: { file: string; meta: string }, uri: string): Promise<CacheMeta | null> {
  try {
    const meta = JSON.parse(await readFile(paths.meta, 'utf8')) as CacheMeta;
    const st = await stat(paths.file);
    if (meta.uri !== uri || st.size !== meta.size || st.mtimeMs !== meta.mtimeMs) return null;
    return meta;
  } catch {
    return null;
  }
}

/** Stream into the cache, hashing on the way; the old sidecar goes first so a crash re-downloads. */
async function download(
  open: () => Readable,
  paths: { file: string; meta: string },
  uri: string,
  expect: { size?: number; md5?: string; etag?: string },
): Promise<CacheMeta> {
  await rm(paths.meta, { force: true });
  const meter = md5Meter();
  let size = 0;
  await writeViaTemp(paths.file, async (tmp) => {
    await pipeline(open(), meter.stream, createWriteStream(tmp));
    size = meter.size();
    if (expect.size !== undefined && size !== expect.size) {
      throw new Error(`download of ${uri} is incomplete: got ${size} bytes, expected ${expect.size}. Retry; if it persists the server is truncating the response.`);
    }
    const md5 = meter.md5();
    if (expect.md5 && md5 !== expect.md5) {
      throw new Error(`download of ${uri} is corrupted: md5 ${md5}, the server says ${expect.md5}. Retry the download.`);
    }
    expect.md5 = md5;
  });
  const meta: CacheMeta = { uri, size, etag: expect.etag, md5: expect.md5, mtimeMs: (await stat(paths.file)).mtimeMs };
  await writeJsonAtomic(paths.meta, meta);
  return meta;
}

function result(path: string, meta: CacheMeta, reused: boolean): MaterializedSource {
  const fingerprint: SourceFingerprint = { uri: meta.uri, size: meta.size };
  if (meta.etag) fingerprint.etag = meta.etag;
  if (meta.md5) fingerprint.md5 = meta.md5;
  return { path, fingerprint, reused };
}

/**
 * Why a request got no response, in words: fetch says only "fetch failed", and its cause is raw
 * OpenSSL or socket text (a plain-HTTP server on an https:// port shows "wrong version number").
 */
function fetchFailure(url: URL, err: Error): string {
  const cause = err.cause as (Error & { code?: string }) | undefined;
  const code = cause?.code ?? '';
  const at = `${url.hostname}${url.port ? `:${url.port}` : ''}`;
  if (url.protocol === 'https:' && (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(cause?.message ?? ''))) {
    const plain = new URL(url.href);
    plain.protocol = 'http:';
    return LOOPBACK.has(url.hostname)
      ? `the server at ${at} answered in plain HTTP, not HTTPS (TLS); use ${plain.href} in data.source, or check the port`
      : `the server at ${at} answered in plain HTTP, not HTTPS (TLS); check the port (HTTPS is usually 443), and serve the file over HTTPS (plain http:// is read from localhost only)`;
  }
  if (cause?.message === 'bad port')
    return `fetch never connects to port ${url.port} (one of the ports browsers block, as Node's fetch does); serve the file on another port`;
  if (code === 'ECONNREFUSED') return `nothing accepts connections at ${at}; check the host and port, and that the server is running`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host ${url.hostname} is not found (DNS); check the host name, and the network`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code))
    return `the certificate of ${at} is not trusted (${code}); serve a certificate from a trusted authority, or set NODE_EXTRA_CA_CERTS=<the CA's .pem> to trust yours`;
  const detail = cause?.message?.trim();
  return `${err.message}${detail ? ` (${detail})` : ''}`;
}

async function materializeHttp(uri: string, opts: MaterializeOptions): Promise<MaterializedSource> {
  const url = new URL(uri);
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    throw new Error(`refusing plain http for ${uri}: use https:// (http is only allowed for localhost)`);
  }
  const paths = cachePaths(opts.cacheDir, uri, url.pathname);
  const cached = await readCached(paths, uri);
  const headers: Record<string, string> = {};
  if (cached?.etag) headers['if-none-match'] = cached.etag;
  let res: Response;
  try {
    res = await (opts.fetchImpl ?? fetch)(uri, { headers, redirect: 'follow' });
  } catch (err) {
    throw new Error(`cannot download ${uri}: ${fetchFailure(url, err as Error)}`, { cause: err });
  }
  if (res.status === 304 && cached) {
    opts.log?.info('source unchanged, using cached copy', { uri, path: paths.file });
    return result(paths.file, cached, true);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`download of ${uri} failed: HTTP ${res.status} ${res.statusText}`.trim());
  }
  const etag = res.headers.get('etag') ?? undefined;
  const lengthHeader = res.headers.get('content-length');
  // A compressed transfer's Content-Length is not the size of the bytes we write.
  const length = lengthHeader !== null && !res.headers.get('content-encoding') ? Number(lengthHeader) : undefined;
  if (cached && etag && cached.etag === etag && (length === undefined || length === cached.size)) {
    await res.body.cancel(); // server ignored If-None-Match but the object is the same
    return result(paths.file, cached, true);
  }
  const started = Date.now();
  opts.log?.info('downloading source', { uri, bytes: length ?? 'unknown' });
  const body = res.body;
  const meta = await download(() => Readable.fromWeb(body), paths, uri, { size: length, etag });
  opts.log?.info('downloaded source', { uri, bytes: meta.size, seconds: (Date.now() - started) / 1000 });
  return result(paths.file, meta, false);
}

/**
 * Before the real client: when no credentials can exist here, it would retry for ~16 s and then
 * say little; an object is then readable only if public, which one unauthenticated request shows.
 */
async function checkCanRead(uri: string, bucket: string, path: string, opts: MaterializeOptions): Promise<void> {
  const env = opts.credentials?.env ?? process.env;
  if (env.STORAGE_EMULATOR_HOST) return; // an emulator takes no credentials
  const creds = await findCredentials(opts.credentials);
  if (creds.found) return;
  if (creds.problem) throw new Error(`cannot read ${uri}: ${creds.problem}`);
  const none = `this machine has no Google Cloud credentials (looked for ${creds.looked.join('; ')})`;
  const api = `https://storage.googleapis.com/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(path)}?fields=size`;
  let res: Response;
  try {
    res = await (opts.fetchImpl ?? fetch)(api, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    const cause = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    throw new Error(`cannot read ${uri}: ${none}, and storage.googleapis.com did not answer (${cause}); ${HOW_TO_AUTHENTICATE}, and check the network`, { cause: err });
  }
  await res.body?.cancel();
  if (res.ok) return; // a public object: the client reads it without credentials
  if (res.status === 404) throw new Error(`source ${uri} does not exist (check the bucket and object name)`);
  throw new Error(`cannot read ${uri}: it is not public (HTTP ${res.status} without credentials), and ${none}; ${HOW_TO_AUTHENTICATE}`);
}

async function materializeGcs(uri: string, opts: MaterializeOptions): Promise<MaterializedSource> {
  const { bucket, path } = parseGsUrl(uri);
  if (!path || path.endsWith('/')) throw new Error(`gs:// source '${uri}' must name an object, not a bucket or folder`);
  if (!opts.storage) await checkCanRead(uri, bucket, path, opts);
  const file = (opts.storage ?? (await defaultGcs())).bucket(bucket).file(path);
  let meta;
  try {
    [meta] = await file.getMetadata();
  } catch (err) {
    if ((err as { code?: unknown }).code === 404) throw new Error(`source ${uri} does not exist (check the bucket and object name)`, { cause: err });
    const code = (err as { code?: unknown }).code;
    const how =
      'gs:// sources are read with Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS=<service-account key.json>, `gcloud auth application-default login`, or the workload identity of the machine';
    if (code === 401 || code === 403)
      throw new Error(`no access to ${uri} (HTTP ${code}): ${(err as Error).message}; grant the identity read access to the bucket (roles/storage.objectViewer); ${how}`, { cause: err });
    throw new Error(`cannot read metadata of ${uri}: ${(err as Error).message}; ${how}; check them and the network to storage.googleapis.com`, { cause: err });
  }
  const size = Number(meta.size);
  const md5 = meta.md5Hash ? Buffer.from(meta.md5Hash, 'base64').toString('hex') : undefined;
  const paths = cachePaths(opts.cacheDir, uri, path);
  const cached = await readCached(paths, uri);
  if (cached && cached.etag === meta.etag && cached.size === size) return result(paths.file, cached, true);
  opts.log?.info('downloading source', { uri, bytes: size });
  const got = await download(() => file.createReadStream(), paths, uri, { size: Number.isFinite(size) ? size : undefined, md5, etag: meta.etag });
  return result(paths.file, got, false);
}

/** Local path → itself; https:// (http:// on localhost) and gs:// → a verified cached download. */
export async function materializeSource(uri: string, opts: MaterializeOptions): Promise<MaterializedSource> {
  if (/^https?:\/\//i.test(uri)) return materializeHttp(uri, opts);
  if (uri.startsWith('gs://')) return materializeGcs(uri, opts);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri);
  if (scheme && scheme[1].toLowerCase() !== 'file') {
    throw new Error(`unsupported source '${uri}': use a local path, https://…, or gs://bucket/object`);
  }
  const path = scheme ? fileURLToPath(uri) : resolve(opts.baseDir ?? process.cwd(), uri);
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new Error(`source '${uri}' not found (looked at ${path})`);
  }
  return { path, fingerprint: { uri, size: st.size, mtimeMs: st.mtimeMs } };
}
