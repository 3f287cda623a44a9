/**
 * `node --import tsx .github/scripts/check-pins.ts <mirror-dir>`: check .github/actions.lock.json
 * against the upstream repositories of the actions, cloned as `<mirror-dir>/<owner>+<name>/repo`
 * (bare or not): the tag resolves to the locked commit, and the tag's action.yml has the locked
 * runtime and inputs. Exit 1 with one line per mismatch.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { defineCli, UsageError } from '../../core/platform/cli.ts';

interface Pin {
  version: string;
  sha: string;
  runs: string;
  inputs: Record<string, unknown>;
}
/** The parts of an action's action.yml this script compares with the lock. */
interface ActionManifest {
  runs?: { using?: string };
  inputs?: Record<string, unknown>;
}
const USAGE = `usage: node --import tsx .github/scripts/check-pins.ts <mirror-dir>
  check .github/actions.lock.json against upstream clones <mirror-dir>/<owner>+<name>/repo (bare or
  not): each tag resolves to the locked commit, and its action.yml has the locked runtime and inputs
exit: 0 every pin matches, 1 a mismatch (one line each on stderr), 2 usage error`;

await defineCli({ name: 'check-pins', usage: USAGE, positionals: true }, ({ positionals }, io) => {
  if (positionals.length !== 1)
    throw new UsageError('give one directory holding <owner>+<name>/repo clones of each action');
  const mirror = positionals[0];
  const lockFile = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'actions.lock.json'), 'utf8')) as {
    actions: Record<string, Pin>;
  };
  const lock = lockFile.actions;
  const problems: string[] = [];
  for (const [action, pin] of Object.entries(lock)) {
    const repo = join(mirror, action.replace('/', '+'), 'repo');
    if (!existsSync(repo)) {
      problems.push(`${action}: ${repo} missing`);
      continue;
    }
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
    const sha = git('rev-parse', `${pin.version}^{commit}`);
    if (sha !== pin.sha) problems.push(`${action} ${pin.version} is ${sha} upstream, the lock says ${pin.sha}`);
    const manifest = parse(git('show', `${pin.version}:action.yml`)) as ActionManifest;
    if (manifest.runs?.using !== pin.runs)
      problems.push(`${action} ${pin.version} runs.using ${manifest.runs?.using}, the lock says ${pin.runs}`);
    const upstream = Object.keys(manifest.inputs ?? {})
      .sort()
      .join(',');
    if (upstream !== Object.keys(pin.inputs).sort().join(','))
      problems.push(`${action} ${pin.version} inputs differ: upstream ${upstream}`);
    io.stdout(`${action} ${pin.version} ${sha} ${manifest.runs?.using}\n`);
  }
  for (const p of problems) io.stderr(`${p}\n`);
  // One line per mismatch above.
  return problems.length ? 1 : 0;
}).main();
