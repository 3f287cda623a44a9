/** Where a model came from: the git commit and the DVC version of the raw data. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readDvcFile } from '../core/dvc/dvcfile.ts';

export function gitCommit(repoRoot: string): string | null {
  if (process.env.GITHUB_SHA) return process.env.GITHUB_SHA;
  try {
    return (
      execFileSync('git', ['rev-parse', 'HEAD'], {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || null
    );
  } catch {
    return null;
  }
}

export async function dataMd5(repoRoot: string): Promise<string | null> {
  try {
    const f = await readDvcFile(join(repoRoot, 'data.dvc'));
    return f.outs[0]?.md5 ?? null;
  } catch {
    return null;
  }
}
