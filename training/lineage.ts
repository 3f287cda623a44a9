/** Where a model came from: the git commit and the DVC version of the raw data. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readDvcFile } from '../core/dvc/dvcfile.ts';

/**
 * The commit checked out at `repoRoot`; without a git checkout (an image) the commit the image was
 * built from (SOURCE_COMMIT, training/Dockerfile's build argument), else GITHUB_SHA: in the train
 * workflow GITHUB_SHA is the commit the run was started from (main for a dispatch from the UI), not
 * the `model` commit it trains, and GTO's tags of the version must sit on or after it.
 */
export function gitCommit(repoRoot: string, env: Record<string, string | undefined> = process.env): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (head) return head;
  } catch {
    // not a git checkout
  }
  return env.SOURCE_COMMIT?.trim() || env.GITHUB_SHA || null;
}

export async function dataMd5(repoRoot: string): Promise<string | null> {
  try {
    const f = await readDvcFile(join(repoRoot, 'data.dvc'));
    return f.outs[0]?.md5 ?? null;
  } catch {
    return null;
  }
}
