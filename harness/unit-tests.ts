/**
 * `npm run test:unit`: every `*.test.ts` under the product folders, in one `node --test` run.
 * Node 20's runner takes no glob patterns, so the files are listed here (node_modules skipped).
 * `--list` prints the files instead of running them; other arguments go to `node --test`.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain } from '../core/platform/is-main.ts';

export const TEST_ROOTS = ['core', 'training', 'api', 'infra', '.github', 'harness'];

/** Paths (relative to `repo`, `/`-separated, sorted) of every `*.test.ts` under `roots`. */
export async function listTestFiles(repo: string, roots: readonly string[] = TEST_ROOTS): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new Error(`cannot list test files in ${dir}: ${(err as Error).message} (run from the repository root)`, {
        cause: err,
      });
    }
    for (const e of entries) {
      if (e.isDirectory() && e.name !== 'node_modules') await walk(join(dir, e.name));
      else if (e.isFile() && e.name.endsWith('.test.ts'))
        found.push(relative(repo, join(dir, e.name)).split('\\').join('/'));
    }
  };
  for (const root of roots) await walk(join(repo, root));
  return found.sort();
}

async function main(args: string[]): Promise<number> {
  const repo = fileURLToPath(new URL('../', import.meta.url));
  const files = await listTestFiles(repo);
  if (args.includes('--list')) {
    console.log(files.join('\n'));
    return 0;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...args, ...files], {
    cwd: repo,
    stdio: 'inherit',
  });
  return new Promise((resolve) => {
    child.once('error', (err) => {
      console.error(`test:unit: cannot start node: ${err.message}`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      console.error(`test:unit: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
