/**
 * `npm run test:unit`: every `*.test.ts` under the product folders, in one `node --test` run.
 * Node 20's runner takes no glob patterns, so the files are listed here (node_modules skipped).
 * `--list` prints the files instead of running them; node's test-runner options below, and any
 * argument after `--`, go to `node --test`.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain } from '../core/platform/is-main.ts';
import { defineCli, type CliValues } from '../core/platform/cli.ts';

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

const USAGE = `usage: npm run test:unit -- [--list] [--test-name-pattern RE] [--test-skip-pattern RE] [--test-only]
       [--test-concurrency N] [--test-timeout MS] [-- <more node --test arguments>]
  every *.test.ts under ${TEST_ROOTS.join(', ')} in one \`node --test\` run
  --list  print the files instead of running them
  the --test-* options, and everything after --, go to node --test
exit: node --test's (0 every test passed, 1 one failed), 2 usage error`;

/** node --test options passed through as they are. */
const FORWARDED = {
  'test-name-pattern': { type: 'string', multiple: true },
  'test-skip-pattern': { type: 'string', multiple: true },
  'test-only': { type: 'boolean' },
  'test-concurrency': { type: 'string' },
  'test-timeout': { type: 'string' },
} as const;
const OPTIONS = { list: { type: 'boolean', default: false }, ...FORWARDED } as const;

/** The node --test arguments the options and the arguments after `--` stand for. */
export function nodeTestArgs(
  values: Pick<CliValues<typeof OPTIONS>, keyof typeof FORWARDED>,
  rest: readonly string[],
): string[] {
  const out: string[] = [];
  for (const name of Object.keys(FORWARDED) as (keyof typeof FORWARDED)[]) {
    const v = values[name];
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v])
      out.push(one === true ? `--${name}` : `--${name}=${String(one)}`);
  }
  return [...out, ...rest];
}

async function main(values: CliValues<typeof OPTIONS>, rest: string[]): Promise<number> {
  const repo = fileURLToPath(new URL('../', import.meta.url));
  const files = await listTestFiles(repo);
  if (values.list) {
    console.log(files.join('\n'));
    return 0;
  }
  const args = nodeTestArgs(values, rest);
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...args, ...files], {
    cwd: repo,
    stdio: 'inherit',
  });
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`cannot start node: ${err.message}`, { cause: err })));
    // node --test's summary says what failed.
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

if (isMain(import.meta.url))
  await defineCli({ name: 'test:unit', usage: USAGE, options: OPTIONS, positionals: true }, ({ values, positionals }) =>
    main(values, positionals),
  ).main();
