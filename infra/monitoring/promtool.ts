/**
 * Runs promtool on the generated files. The unit tests in prometheus/tests/ carry the annotations
 * each alert renders (promtool-tests.ts), so they run as users run them: from the repository
 * root, on the committed files, no copy.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const PROMTOOL = '/usr/bin/promtool';
export const hasPromtool = () => existsSync(PROMTOOL);
const run = promisify(execFile);

export async function promtool(args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(PROMTOOL, args, { timeout: 60_000 });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}

/** What the README tells users (and CI) to run, from the repository root. */
export const RULE_TEST_COMMAND = 'promtool test rules infra/monitoring/prometheus/tests/*.yml';

/** Runs RULE_TEST_COMMAND through the shell (which expands the glob) in `repoRoot`. */
export async function testRulesAsUsersDo(repoRoot: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('/bin/sh', ['-c', RULE_TEST_COMMAND], { cwd: repoRoot, timeout: 120_000 });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}

export async function unitTestFiles(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}
