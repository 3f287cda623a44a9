/**
 * Parameter values as DVC records them in dvc.lock: each listed key is looked up with "." as the
 * path separator (dpath.get), so `train.lr` yields the number and a bare section name such as
 * `ingest` yields the whole nested mapping; a file listed without keys yields all its top-level
 * keys. Values keep Python's int/float distinction (see yaml.ts) so comparisons match DVC's.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseYamlPy } from './yaml.ts';

export async function loadParamsFile(absPath: string, displayPath: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(absPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`Parameters file '${displayPath}' does not exist (looked at ${absPath})`, { cause: err });
    if ((err as NodeJS.ErrnoException).code === 'EISDIR')
      throw new Error(`'${displayPath}' is a directory, expected a parameters file`, { cause: err });
    throw err;
  }
  const ext = extname(absPath).toLowerCase();
  if (ext !== '.yaml' && ext !== '.yml' && ext !== '.json') {
    throw new Error(`Parameters file '${displayPath}': only YAML and JSON parameter files are supported`);
  }
  // JSON is YAML 1.2, so one parser keeps ints and floats apart for both.
  const data = parseYamlPy(text, displayPath);
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data))
    throw new Error(`Parameters file '${displayPath}' must hold a mapping at the top level`);
  return data as Record<string, unknown>;
}

const MISSING = Symbol('missing');

function lookup(root: unknown, key: string): unknown {
  let cur: unknown = root;
  for (const part of key.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = Number(part) < cur.length ? cur[Number(part)] : MISSING;
    else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur) && Object.hasOwn(cur, part))
      cur = (cur as Record<string, unknown>)[part];
    else return MISSING;
    if (cur === MISSING) return MISSING;
  }
  return cur;
}

/** Values of `keys` (all top-level keys when empty); throws naming every missing key. */
export function selectParams(
  file: Record<string, unknown>,
  keys: readonly string[],
  displayPath: string,
): Record<string, unknown> {
  if (keys.length === 0) return { ...file };
  const out: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const key of keys) {
    const v = lookup(file, key);
    if (v === MISSING) missing.push(key);
    else out[key] = v;
  }
  if (missing.length) {
    throw new Error(
      `Parameters '${missing.join("', '")}' are missing from '${displayPath}'. Add them to the file or remove them from the stage's params in dvc.yaml.`,
    );
  }
  return out;
}

export async function readParamValues(
  absPath: string,
  keys: readonly string[],
  displayPath: string,
): Promise<Record<string, unknown>> {
  return selectParams(await loadParamsFile(absPath, displayPath), keys, displayPath);
}
