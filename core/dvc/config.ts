/**
 * `.dvc/config` (INI as written by Python's configobj) and the files `dvc init` creates.
 * `.dvc/config.local` (not committed) overrides `.dvc/config`, as in DVC. Relative remote URLs
 * and cache dirs are relative to the `.dvc/` directory, as in DVC.
 */
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { exists, readTextIfExists, writeFileAtomic } from '../platform/atomic.ts';
import { DEFAULT_DVCIGNORE, DVCIGNORE_FILE } from './ignore.ts';

export const DVC_DIR = '.dvc';
export type ConfigSections = Record<string, Record<string, string>>;

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && (t[0] === "'" || t[0] === '"') && t.at(-1) === t[0]) return t.slice(1, -1);
  return t;
}

export function parseConfig(text: string, source: string): ConfigSections {
  const sections: ConfigSections = {};
  let current: Record<string, string> | null = null;
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) return;
    const header = /^\[+(.*?)\]+$/.exec(t);
    if (header) {
      const name = unquote(header[1]);
      current = sections[name] ??= {};
      return;
    }
    const eq = t.indexOf('=');
    if (eq <= 0 || !current)
      throw new Error(`${source}:${i + 1}: expected "key = value" inside a [section], got ${JSON.stringify(t)}`);
    let value = t.slice(eq + 1).trim();
    if (!/^['"]/.test(value)) value = value.replace(/\s+#.*$/, ''); // configobj inline comment
    current[t.slice(0, eq).trim()] = unquote(value);
  });
  return sections;
}

function quoteSection(name: string): string {
  return /[\s"'[\]]/.test(name) ? `'${name}'` : name;
}

function quoteValue(v: string): string {
  return v === '' || /^\s|\s$|[#,"']/.test(v) ? JSON.stringify(v) : v;
}

/** configobj's layout: `[section]` then `    key = value`. */
export function serializeConfig(sections: ConfigSections): string {
  let out = '';
  for (const [name, values] of Object.entries(sections)) {
    out += `[${quoteSection(name)}]\n`;
    for (const [k, v] of Object.entries(values)) out += `    ${k} = ${quoteValue(v)}\n`;
  }
  return out;
}

export async function readDvcConfig(repoRoot: string): Promise<ConfigSections> {
  const merged: ConfigSections = {};
  for (const file of ['config', 'config.local']) {
    const path = join(repoRoot, DVC_DIR, file);
    const text = await readTextIfExists(path);
    if (text === null) continue;
    for (const [name, values] of Object.entries(parseConfig(text, path))) merged[name] = { ...merged[name], ...values };
  }
  return merged;
}

export function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

export interface RemoteRef {
  name: string;
  /** A URL (gs://…) or an absolute local path. */
  url: string;
}

export function resolveRemote(config: ConfigSections, repoRoot: string, name?: string): RemoteRef {
  const remoteName = name ?? config.core?.remote;
  if (!remoteName) {
    throw new Error(
      `no DVC remote given and no default set: add "[core] remote = <name>" to ${join(repoRoot, DVC_DIR, 'config')} or pass -r <name>`,
    );
  }
  const section = config[`remote "${remoteName}"`];
  if (!section?.url) {
    const known = Object.keys(config).flatMap((k) => /^remote "(.*)"$/.exec(k)?.[1] ?? []);
    throw new Error(
      `DVC remote '${remoteName}' is not configured in ${join(repoRoot, DVC_DIR, 'config')} (known remotes: ${known.join(', ') || 'none'})`,
    );
  }
  const url = section.url;
  return { name: remoteName, url: isUrl(url) || isAbsolute(url) ? url : resolve(repoRoot, DVC_DIR, url) };
}

export function cacheDirOf(config: ConfigSections, repoRoot: string): string {
  const dir = config.cache?.dir;
  if (!dir) return join(repoRoot, DVC_DIR, 'cache');
  return isAbsolute(dir) ? dir : resolve(repoRoot, DVC_DIR, dir);
}

export interface InitOptions {
  remoteName?: string;
  /** Relative to `.dvc/`, as DVC stores it. */
  remoteUrl?: string;
}

/**
 * What `dvc init` plus `dvc remote add -d` would leave behind. Existing files are never
 * overwritten, so running this on an initialized repository changes nothing.
 */
export async function initDvcRepo(repoRoot: string, opts: InitOptions = {}): Promise<string[]> {
  const created: string[] = [];
  const dvcDir = join(repoRoot, DVC_DIR);
  await mkdir(dvcDir, { recursive: true });
  const write = async (path: string, text: string): Promise<void> => {
    if (await exists(path)) return;
    await writeFileAtomic(path, text);
    created.push(path);
  };
  const name = opts.remoteName ?? 'local';
  await write(
    join(dvcDir, 'config'),
    serializeConfig({ core: { remote: name }, [`remote "${name}"`]: { url: opts.remoteUrl ?? '../.dvc-remote' } }),
  );
  await write(join(dvcDir, '.gitignore'), '/config.local\n/tmp\n/cache\n');
  await write(join(repoRoot, DVCIGNORE_FILE), DEFAULT_DVCIGNORE);
  return created;
}

/** Append `/<name>` to the .gitignore next to a tracked path, as `dvc add` does. */
export async function ensureGitignored(dir: string, name: string): Promise<boolean> {
  const path = join(dir, '.gitignore');
  const text = (await readTextIfExists(path)) ?? '';
  const lines = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  if ([name, `${name}/`, `/${name}`, `/${name}/`].some((l) => lines.has(l))) return false;
  await writeFileAtomic(path, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}/${name}\n`);
  return true;
}
