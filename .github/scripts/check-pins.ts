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

const mirror = process.argv[2];
if (!mirror) {
  console.error('usage: check-pins.ts <dir holding <owner>+<name>/repo clones of each action>');
  process.exit(2);
}
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
  console.log(`${action} ${pin.version} ${sha} ${manifest.runs?.using}`);
}
for (const p of problems) console.error(p);
process.exitCode = problems.length ? 1 : 0;
