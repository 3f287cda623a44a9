/**
 * A pipeline run's results for git, between a checkout and the registry: `put-run` stores what a
 * run changed in its checkout (dvc.lock, data.dvc, params.yaml and the outputs dvc.yaml keeps in
 * git, `cache: false`: metrics/…) beside the version it registered; `import-run` writes them into
 * another checkout, where they are committed like the train workflow's results commit. A run with
 * no checkout of its own (the trainer Job's pod) then still gets a commit whose dvc.lock records
 * its model, the commit GTO's tag for the version needs.
 */
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { parseLock, parsePipeline, parseYamlPy, PIPELINE_FILE } from '../../core/dvc/index.ts';
import { writeFileAtomic } from '../../core/platform/atomic.ts';
import { RegistryError } from '../../core/registry/index.ts';
import type { RunFile } from './run-store.ts';

/** The files beside the outputs that a run rewrites and the train workflow commits. */
export const RECORD_FILES = ['dvc.lock', 'data.dvc', 'params.yaml'] as const;

/** The outputs dvc.yaml keeps in git (`cache: false`), repository-relative: files and directories. */
export async function gitOutputs(repoRoot: string): Promise<string[]> {
  const pipeline = parsePipeline(await readFile(join(repoRoot, PIPELINE_FILE), 'utf8'));
  const paths = pipeline.stages.flatMap((s) =>
    s.outs.filter((o) => !o.cache).map((o) => posix.normalize(posix.join(s.wdir, o.path)).replace(/\/$/, '')),
  );
  return [...new Set(paths)].sort();
}

async function filesUnder(repoRoot: string, rel: string): Promise<string[]> {
  const info = await stat(join(repoRoot, rel)).catch(() => null);
  if (!info) return [];
  if (info.isFile()) return [rel];
  if (!info.isDirectory()) return [];
  const out: string[] = [];
  for (const e of await readdir(join(repoRoot, rel), { withFileTypes: true }))
    out.push(...(await filesUnder(repoRoot, `${rel}/${e.name}`)));
  return out;
}

/** What a finished run leaves for git in `repoRoot`; dvc.lock must be there. */
export async function collectRunFiles(repoRoot: string): Promise<RunFile[]> {
  const paths = [...RECORD_FILES, ...(await gitOutputs(repoRoot))];
  const files: RunFile[] = [];
  for (const rel of paths)
    for (const path of await filesUnder(repoRoot, rel))
      files.push({ path, data: await readFile(join(repoRoot, ...path.split('/'))) });
  if (!files.some((f) => f.path === 'dvc.lock'))
    throw new RegistryError(
      `${repoRoot} has no dvc.lock: store a run's results after the pipeline has run there`,
      'not-found',
    );
  return files;
}

/** The md5 that `lockText` records for `model`'s artifact path (dvc.yaml `artifacts`), or null. */
export function artifactMd5In(yamlText: string, lockText: string, model: string): string | null {
  try {
    const artifacts = (parseYamlPy(yamlText, 'dvc.yaml') as { artifacts?: Record<string, { path?: unknown }> } | null)
      ?.artifacts;
    const path = artifacts?.[model]?.path;
    if (typeof path !== 'string') return null;
    for (const stage of parseLock(lockText, 'dvc.lock').stages.values()) {
      const outs = Array.isArray(stage.outs) ? (stage.outs as { path?: unknown; md5?: unknown }[]) : [];
      const out = outs.find((o) => o.path === path.replace(/\/$/, ''));
      if (typeof out?.md5 === 'string') return out.md5;
    }
  } catch {
    // A dvc.yaml or dvc.lock DVC could not read says nothing about which model it records.
  }
  return null;
}

/**
 * Write `files` into `repoRoot`, each through a temporary sibling renamed into place, after
 * removing files inside the git-kept output directories that the run did not produce (its
 * directories replace the checkout's). Returns the paths written and removed.
 */
export async function writeRunFiles(
  repoRoot: string,
  files: RunFile[],
  outputs: string[],
): Promise<{ written: string[]; removed: string[] }> {
  const incoming = new Set(files.map((f) => f.path));
  const removed: string[] = [];
  for (const out of outputs) {
    const info = await stat(join(repoRoot, out)).catch(() => null);
    if (!info?.isDirectory()) continue;
    for (const path of await filesUnder(repoRoot, out))
      if (!incoming.has(path)) {
        await rm(join(repoRoot, ...path.split('/')), { force: true });
        removed.push(path);
      }
  }
  for (const f of files) await writeFileAtomic(join(repoRoot, ...f.path.split('/')), f.data);
  return { written: files.map((f) => f.path), removed };
}
