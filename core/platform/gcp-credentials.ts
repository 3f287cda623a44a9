/**
 * Whether Google Cloud credentials can exist on this machine, checked the way the client library
 * (google-auth-library's Application Default Credentials) finds them: GOOGLE_APPLICATION_CREDENTIALS,
 * gcloud's application-default file under the home directory, or a metadata server (Compute
 * Engine, and GKE's workload identity). Without any, the client still tries each and retries the
 * request for about 16 s before it fails; this check takes at most a second.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CredentialCheckOptions {
  env?: Record<string, string | undefined>;
  platform?: NodeJS.Platform;
  /** Whether a metadata server answers (default: the BIOS says Google, or one answers within `timeoutMs`). */
  metadata?: () => Promise<boolean>;
  timeoutMs?: number;
}

export type CredentialSource = { found: true; via: string } | { found: false; looked: string[]; problem?: string };

/** gcloud's `application-default login` file, where the client library looks for it. */
export function adcFilePath(env: Record<string, string | undefined>, platform: NodeJS.Platform): string | undefined {
  const base = platform === 'win32' ? env.APPDATA : env.HOME ? join(env.HOME, '.config') : undefined;
  return base ? join(base, 'gcloud', 'application_default_credentials.json') : undefined;
}

/** The metadata server's host as the client library reads it. */
export function metadataHost(env: Record<string, string | undefined>): string {
  return env.GCE_METADATA_IP || env.GCE_METADATA_HOST || '169.254.169.254';
}

/** A metadata server is there: this is a Google Cloud VM by its BIOS, or the server answers as one in time. */
export async function probeMetadata(
  env: Record<string, string | undefined> = process.env,
  timeoutMs = 1000,
): Promise<boolean> {
  const product = await readFile('/sys/class/dmi/id/product_name', 'utf8').catch(() => '');
  if (/Google/.test(product)) return true;
  const host = metadataHost(env);
  try {
    const res = await fetch(`${/^https?:\/\//.test(host) ? host : `http://${host}`}/computeMetadata/v1/instance`, {
      headers: { 'Metadata-Flavor': 'Google' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return res.headers.get('metadata-flavor') === 'Google';
  } catch {
    return false;
  }
}

/** Where the client library would find credentials, or everywhere it would look and find none. */
export async function findCredentials(options: CredentialCheckOptions = {}): Promise<CredentialSource> {
  const env = options.env ?? process.env;
  const looked: string[] = [];
  const keyFile = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (keyFile) {
    if (existsSync(keyFile)) return { found: true, via: `GOOGLE_APPLICATION_CREDENTIALS=${keyFile}` };
    return {
      found: false,
      looked: [`GOOGLE_APPLICATION_CREDENTIALS=${keyFile}`],
      problem: `GOOGLE_APPLICATION_CREDENTIALS names ${keyFile}, which does not exist; point it at a service-account key file, or unset it`,
    };
  }
  looked.push('GOOGLE_APPLICATION_CREDENTIALS (not set)');
  const adc = adcFilePath(env, options.platform ?? process.platform);
  if (adc && existsSync(adc)) return { found: true, via: adc };
  looked.push(adc ?? 'gcloud application-default credentials (no HOME)');
  const detection = env.METADATA_SERVER_DETECTION?.trim().toLowerCase();
  if (detection === 'assume-present') return { found: true, via: 'METADATA_SERVER_DETECTION=assume-present' };
  const timeoutMs = options.timeoutMs ?? 1000;
  if (detection !== 'none' && (await (options.metadata ?? (() => probeMetadata(env, timeoutMs)))()))
    return { found: true, via: `the metadata server at ${metadataHost(env)}` };
  looked.push(
    detection === 'none'
      ? 'no metadata server (METADATA_SERVER_DETECTION=none)'
      : `a metadata server at ${metadataHost(env)} (no answer within ${timeoutMs / 1000} s)`,
  );
  return { found: false, looked };
}

/** How to give this machine credentials, for error messages. */
export const HOW_TO_AUTHENTICATE =
  'authenticate with `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS=<service-account key.json>; on GKE, run as a Kubernetes service account bound to a Google service account (workload identity)';

let credentialsHere: Promise<CredentialSource> | undefined;

/**
 * Fails at once, saying where credentials were looked for and how to give them, when none can
 * exist on this machine: for what cannot work without them (writing to a bucket, a private
 * registry). Without this the client retries for ~16 s and then fails, possibly after the work
 * it was to save was done. An emulator (STORAGE_EMULATOR_HOST) takes none. The machine's answer is
 * looked up once per process.
 */
export async function requireCredentials(what: string, options?: CredentialCheckOptions): Promise<void> {
  const env = options?.env ?? process.env;
  if (env.STORAGE_EMULATOR_HOST) return;
  const source = await (options ? findCredentials(options) : (credentialsHere ??= findCredentials()));
  if (source.found) return;
  throw new Error(
    `${what}: ${source.problem ?? `this machine has no Google Cloud credentials (looked for ${source.looked.join('; ')})`}; ${HOW_TO_AUTHENTICATE}`,
  );
}
