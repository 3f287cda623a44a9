/**
 * Runs promtool on the generated files. `promtool test rules` compares annotations too, so the unit
 * tests run against a copy of rules.yml without annotations: they prove the alert logic (expr, for,
 * labels); `promtool check rules` validates the annotation templates and the e2e test renders them.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { ruleGroups } from './rules.ts';

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

/** Runs one unit-test file (prometheus/tests/*.yml) against the annotation-free rules. */
export async function testRules(testFile: string): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'promtool-'));
  const groups = ruleGroups().map((g) => ({ ...g, rules: g.rules.map((r) => ('alert' in r ? { ...r, annotations: {} } : r)) }));
  await writeFile(join(dir, 'rules.yml'), stringify({ groups }, { lineWidth: 0 }));
  const doc = parse(await readFile(testFile, 'utf8'));
  doc.rule_files = [join(dir, 'rules.yml')];
  const copy = join(dir, 'test.yml');
  await writeFile(copy, stringify(doc, { lineWidth: 0 }));
  return promtool(['test', 'rules', copy]);
}

export async function unitTestFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.yml')).sort().map((f) => join(dir, f));
}
