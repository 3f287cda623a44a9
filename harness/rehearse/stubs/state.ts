/** Shared by the CLI stand-ins: the call log and the stand-in cloud's JSON state files. */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempSiblingPath } from '../../../core/platform/temp-files.ts';

export interface StubCall {
  cmd: string;
  args: string[];
  cwd: string;
  step: string;
  env: Record<string, string>;
  code?: number;
  /** An npm command REHEARSE_NPM_RECORD recorded instead of running. */
  recorded?: boolean;
}

const KEPT_ENV = [
  'KUBECONFIG',
  'CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'CLOUDSDK_CORE_PROJECT',
  'GH_TOKEN',
  'GITHUB_TOKEN',
  'PROMETHEUS_URL',
];

export function record(cmd: string, args: string[], code: number, recorded = false): void {
  const log = process.env.REHEARSE_CALLS;
  if (!log) return;
  const env = Object.fromEntries(
    KEPT_ENV.filter((k) => process.env[k] !== undefined).map((k) => [k, k.includes('TOKEN') ? '***' : process.env[k]!]),
  );
  const call: StubCall = {
    cmd,
    args,
    cwd: process.cwd(),
    step: process.env.REHEARSE_STEP ?? '',
    env,
    code,
    ...(recorded ? { recorded } : {}),
  };
  appendFileSync(log, `${JSON.stringify(call)}\n`);
}

export function cloudPath(...parts: string[]): string {
  const root = process.env.REHEARSE_CLOUD;
  if (!root) throw new Error('REHEARSE_CLOUD is not set: this stand-in only runs inside npm run ci:rehearse');
  return join(root, ...parts);
}

export function readState<T>(name: string, initial: T): T {
  const p = cloudPath(name);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : initial;
}

export function writeState(name: string, value: unknown): void {
  const p = cloudPath(name);
  mkdirSync(dirname(p), { recursive: true });
  const tmp = tempSiblingPath(p);
  writeFileSync(tmp, JSON.stringify(value, null, 2));
  renameSync(tmp, p);
}

/** A stub's answer: print, record, exit. */
export class Exit extends Error {
  constructor(
    readonly code: number,
    readonly stdout = '',
    readonly stderr = '',
  ) {
    super(stderr || stdout);
  }
}

export const fail = (stderr: string, code = 1) => new Exit(code, '', stderr.endsWith('\n') ? stderr : `${stderr}\n`);
export const ok = (stdout = '') => new Exit(0, stdout && !stdout.endsWith('\n') ? `${stdout}\n` : stdout);

/** gs://bucket/path → the stand-in bucket directory. */
export function gcsDir(url: string): string {
  const m = /^gs:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw fail(`not a gs:// URL: ${url}`);
  return cloudPath('gcs', m[1], m[2]);
}

/** The Google credentials file a client library would load, or an error naming what is wrong. */
export function googleCredentials(what: string): string {
  const path = process.env.CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE || process.env.GOOGLE_APPLICATION_CREDENTIALS;
  if (!path)
    throw fail(
      `${what}: could not find default credentials (no GOOGLE_APPLICATION_CREDENTIALS: run google-github-actions/auth first)`,
    );
  if (!existsSync(path))
    throw fail(
      `${what}: Unable to read file [${path}]: No such file or directory (the credentials file is gone: was the workspace cleaned after google-github-actions/auth?)`,
    );
  return path;
}
