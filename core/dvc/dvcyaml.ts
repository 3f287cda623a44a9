/**
 * dvc.yaml: the pipeline definition. Parsed strictly (unknown keys are errors, as in DVC's
 * schema) so a typo such as `dep:` fails loudly instead of silently dropping a dependency.
 * Not supported: `foreach`/`matrix` stages and `${…}` templating; both are rejected with a
 * message rather than run wrongly.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseYamlPy } from './yaml.ts';
import { DEFAULT_PARAMS_FILE } from './lock.ts';

export const PIPELINE_FILE = 'dvc.yaml';

export type OutKind = 'outs' | 'metrics' | 'plots';

export interface OutSpec {
  /** As written in dvc.yaml (relative to the stage's wdir). */
  path: string;
  kind: OutKind;
  cache: boolean;
  persist: boolean;
  push: boolean;
  /** All flags as written (desc, remote, plot properties, …). */
  flags: Record<string, unknown>;
}

export interface ParamsSpec {
  /** Params file relative to wdir. */
  file: string;
  /** Keys (dotted); empty means "every top-level key of the file". */
  keys: string[];
}

export interface StageSpec {
  name: string;
  cmd: string | string[];
  /** Relative to the repository root; "." when not set. */
  wdir: string;
  deps: string[];
  params: ParamsSpec[];
  outs: OutSpec[];
  frozen: boolean;
  alwaysChanged: boolean;
  desc?: string;
}

export interface PipelineDef {
  stages: StageSpec[];
  /** Top-level sections kept for callers (artifacts, metrics, plots, params, vars). */
  sections: Record<string, unknown>;
}

const TOP_KEYS = new Set(['stages', 'vars', 'params', 'metrics', 'plots', 'artifacts', 'datasets']);
const STAGE_KEYS = new Set([
  'cmd',
  'wdir',
  'deps',
  'params',
  'outs',
  'metrics',
  'plots',
  'frozen',
  'always_changed',
  'meta',
  'desc',
  'vars',
]);
const OUT_FLAGS = new Set(['cache', 'persist', 'push', 'remote', 'desc', 'type', 'labels', 'meta', 'checkpoint']);
const PLOT_FLAGS = new Set(['x', 'y', 'x_label', 'y_label', 'title', 'template', 'header']);

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function rejectTemplating(value: string, where: string): void {
  if (value.includes('${')) {
    throw new Error(
      `${where}: templating ("${value}") is not supported by this runner; write the value out in dvc.yaml`,
    );
  }
}

function parseOuts(raw: unknown, kind: OutKind, where: string): OutSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Error(`${where}: "${kind}" must be a list`);
  return raw.map((item, i) => {
    let path: string;
    let flags: Record<string, unknown> = {};
    if (typeof item === 'string') path = item;
    else if (isMap(item) && Object.keys(item).length === 1) {
      path = Object.keys(item)[0];
      const f = item[path];
      if (f !== null && !isMap(f)) throw new Error(`${where}: ${kind}[${i}] flags for '${path}' must be a mapping`);
      flags = (f as Record<string, unknown>) ?? {};
    } else throw new Error(`${where}: ${kind}[${i}] must be a path or {path: {flags}}`);
    rejectTemplating(path, `${where}: ${kind}[${i}]`);
    for (const k of Object.keys(flags)) {
      if (!OUT_FLAGS.has(k) && !(kind === 'plots' && PLOT_FLAGS.has(k))) {
        throw new Error(`${where}: ${kind} '${path}' has unknown flag "${k}" (allowed: ${[...OUT_FLAGS].join(', ')})`);
      }
    }
    const bool = (k: string, dflt: boolean): boolean => {
      const v = flags[k];
      if (v === undefined) return dflt;
      if (typeof v !== 'boolean') throw new Error(`${where}: ${kind} '${path}' flag "${k}" must be true or false`);
      return v;
    };
    return { path, kind, cache: bool('cache', true), persist: bool('persist', false), push: bool('push', true), flags };
  });
}

function parseParams(raw: unknown, where: string): ParamsSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Error(`${where}: "params" must be a list`);
  const byFile = new Map<string, string[]>();
  const add = (file: string, keys: string[]): void => {
    byFile.set(file, [...(byFile.get(file) ?? []), ...keys]);
  };
  raw.forEach((item, i) => {
    if (typeof item === 'string') add(DEFAULT_PARAMS_FILE, [item]);
    else if (isMap(item)) {
      for (const [file, keys] of Object.entries(item)) {
        if (keys === null) add(file, []);
        else if (Array.isArray(keys) && keys.every((k) => typeof k === 'string')) add(file, keys);
        else throw new Error(`${where}: params[${i}] '${file}' must list parameter names`);
      }
    } else throw new Error(`${where}: params[${i}] must be a name or {file: [names]}`);
  });
  return [...byFile].map(([file, keys]) => ({ file, keys: [...new Set(keys)] }));
}

function parseStage(name: string, raw: unknown, source: string): StageSpec {
  const where = `${source}: stage '${name}'`;
  if (!isMap(raw)) throw new Error(`${where} must be a mapping`);
  if ('foreach' in raw || 'matrix' in raw)
    throw new Error(`${where}: foreach/matrix stages are not supported by this runner; write the stages out`);
  for (const k of Object.keys(raw)) {
    if (!STAGE_KEYS.has(k)) throw new Error(`${where} has unknown key "${k}" (allowed: ${[...STAGE_KEYS].join(', ')})`);
  }
  const cmd = raw.cmd;
  const cmdOk =
    (typeof cmd === 'string' && cmd.trim() !== '') ||
    (Array.isArray(cmd) && cmd.length > 0 && cmd.every((c) => typeof c === 'string'));
  if (!cmdOk) throw new Error(`${where} needs "cmd": a command string or a list of commands`);
  (Array.isArray(cmd) ? cmd : [cmd]).forEach((c) => rejectTemplating(c, `${where}: cmd`));
  const deps = raw.deps ?? [];
  if (!Array.isArray(deps) || !deps.every((d) => typeof d === 'string'))
    throw new Error(`${where}: "deps" must be a list of paths`);
  deps.forEach((d) => rejectTemplating(d, `${where}: deps`));
  const wdir = raw.wdir ?? '.';
  if (typeof wdir !== 'string') throw new Error(`${where}: "wdir" must be a path`);
  const flag = (k: string): boolean => {
    if (raw[k] === undefined) return false;
    if (typeof raw[k] !== 'boolean') throw new Error(`${where}: "${k}" must be true or false`);
    return raw[k];
  };
  return {
    name,
    cmd: cmd,
    wdir,
    deps: deps,
    params: parseParams(raw.params, where),
    outs: [
      ...parseOuts(raw.outs, 'outs', where),
      ...parseOuts(raw.metrics, 'metrics', where),
      ...parseOuts(raw.plots, 'plots', where),
    ],
    frozen: flag('frozen'),
    alwaysChanged: flag('always_changed'),
    desc: typeof raw.desc === 'string' ? raw.desc : undefined,
  };
}

export function parsePipeline(text: string, source = PIPELINE_FILE): PipelineDef {
  const data = parseYamlPy(text, source);
  if (data === null || data === undefined) return { stages: [], sections: {} };
  if (!isMap(data)) throw new Error(`${source}: expected a mapping with "stages"`);
  for (const k of Object.keys(data)) {
    if (!TOP_KEYS.has(k))
      throw new Error(`${source}: unknown top-level key "${k}" (allowed: ${[...TOP_KEYS].join(', ')})`);
  }
  const stagesRaw = data.stages ?? {};
  if (!isMap(stagesRaw)) throw new Error(`${source}: "stages" must be a mapping of stage name → stage`);
  const stages = Object.entries(stagesRaw).map(([name, s]) => {
    if (!/^[\w.-]+$/.test(name))
      throw new Error(`${source}: invalid stage name '${name}' (use letters, digits, '_', '-', '.')`);
    return parseStage(name, s, source);
  });
  const sections: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (k !== 'stages') sections[k] = v;
  return { stages, sections };
}

/** Read `<repoRoot>/dvc.yaml`; null when the repository has no pipeline. */
export async function readPipeline(repoRoot: string): Promise<PipelineDef | null> {
  const path = join(repoRoot, PIPELINE_FILE);
  try {
    return parsePipeline(await readFile(path, 'utf8'), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
