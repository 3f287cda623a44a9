/**
 * Where a reader's browser can load the report's PNGs. A commit the workflow pushed serves them at
 * `<server>/<owner>/<repo>/blob/<sha>/<metrics>/report/<name>.png?raw=true` to anyone who can read
 * the repository (private ones included), with no third-party host. Every part of that URL is
 * checked, because it is built from the environment and lands in Markdown.
 */
import { isAbsolute, relative, sep } from 'node:path';
import type { ImageUrl } from './charts.ts';

const SERVER = /^https:\/\/[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$/;
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/** The repository-relative path of the metrics directory, as a URL path (`metrics`). */
export function repoRelativeDir(cwd: string, dir: string): string {
  const rel = relative(cwd, dir);
  const parts = rel.split(sep);
  if (!rel || isAbsolute(rel) || parts.some((p) => p === '..' || p === '.' || !SEGMENT.test(p))) {
    throw new Error(
      `METRICS_DIR ${JSON.stringify(dir)} must be a plain folder inside the checkout (${cwd}) to link its images from the commit; got ${JSON.stringify(rel)}`,
    );
  }
  return parts.join('/');
}

export interface CommitImageSource {
  GITHUB_SERVER_URL?: string;
  GITHUB_REPOSITORY?: string;
}

/** Image URLs at one commit of this repository: `blob/<sha>/<metricsPath>/<file>?raw=true`. */
export function commitImageUrl(env: CommitImageSource, sha: string, metricsPath: string): ImageUrl {
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  if (!SERVER.test(server))
    throw new Error(
      `GITHUB_SERVER_URL must be an https origin like https://github.com, got ${JSON.stringify(env.GITHUB_SERVER_URL)}`,
    );
  const repo = env.GITHUB_REPOSITORY ?? '';
  if (!REPOSITORY.test(repo) || /\/\.\.?$/.test(repo))
    throw new Error(`GITHUB_REPOSITORY must be "owner/name", got ${JSON.stringify(repo)}`);
  if (!SHA.test(sha))
    throw new Error(
      `the commit to link images at must be a full lowercase hex SHA, got ${JSON.stringify(sha)} (set REPORT_SHA to the commit the workflow pushed)`,
    );
  if (!metricsPath.split('/').every((p) => SEGMENT.test(p) && p !== '.' && p !== '..'))
    throw new Error(`bad metrics path ${JSON.stringify(metricsPath)}`);
  return (path) => `${server}/${repo}/blob/${sha}/${metricsPath}/${encodePath(path)}?raw=true`;
}

/** Image URLs under a base where the workflow published `metrics/` (REPORT_IMAGE_BASE_URL). */
export function baseImageUrl(base: string): ImageUrl {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`REPORT_IMAGE_BASE_URL must be an absolute http(s) URL, got ${JSON.stringify(base)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`REPORT_IMAGE_BASE_URL must be http(s), got ${url.protocol}`);
  if (/[\s()<>"]/.test(base))
    throw new Error(
      `REPORT_IMAGE_BASE_URL must not contain spaces, quotes, brackets or parentheses: ${JSON.stringify(base)}`,
    );
  const root = base.replace(/\/+$/, '');
  return (path) => `${root}/${encodePath(path)}`;
}
