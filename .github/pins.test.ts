/**
 * Every `uses:` is the release recorded in actions.lock.json: same commit, a `# vX.Y.Z` comment
 * naming that release, an action runtime that is not being retired (node24), and only inputs the
 * pinned action.yml declares (a renamed input is silently ignored by GitHub). The lock file itself
 * is checked against the upstream repositories by `scripts/check-pins.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ActionPin } from '../harness/rehearse/types.ts';

const here = import.meta.dirname;
const lock: Record<string, ActionPin> = JSON.parse(readFileSync(join(here, 'actions.lock.json'), 'utf8')).actions;
const CURRENT_RUNTIME = 'node24';

export interface UsesLine {
  file: string;
  line: string;
  action: string;
  sha: string;
  comment: string;
  with: Record<string, unknown>;
}

function usesLines(): UsesLine[] {
  const out: UsesLine[] = [];
  for (const file of readdirSync(join(here, 'workflows')).filter((f) => /\.ya?ml$/.test(f))) {
    const source = readFileSync(join(here, 'workflows', file), 'utf8');
    const steps = Object.values(
      parse(source).jobs as Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }>,
    )
      .flatMap((j) => j.steps ?? [])
      .filter((s) => s.uses);
    const lines = source.split('\n').filter((l) => /^\s*(-\s+)?uses:\s/.test(l));
    assert.equal(lines.length, steps.length, `${file}: one uses: per line`);
    lines.forEach((line, i) => {
      const m = /uses:\s+([\w.-]+\/[\w.-]+)@([0-9a-f]{40})(?:\s+#\s+(\S+))?/.exec(line);
      assert.ok(m, `${file}: "${line.trim()}" is not <owner>/<name>@<sha> # <version>`);
      out.push({ file, line: line.trim(), action: m[1], sha: m[2], comment: m[3] ?? '', with: steps[i].with ?? {} });
    });
  }
  return out;
}

/** Problems of one `uses:` line against the lock; empty when it is the locked release. */
export function pinProblems(u: UsesLine, lock: Record<string, ActionPin>): string[] {
  const pin = lock[u.action];
  if (!pin) return [`${u.file}: ${u.action} is not in .github/actions.lock.json`];
  const problems: string[] = [];
  if (u.sha !== pin.sha)
    problems.push(`${u.file}: ${u.action} pinned to ${u.sha}, the lock says ${pin.version} = ${pin.sha}`);
  if (u.comment !== pin.version) problems.push(`${u.file}: "${u.line}" should say # ${pin.version}`);
  if (pin.runs !== CURRENT_RUNTIME)
    problems.push(`${u.action}@${pin.version} runs on ${pin.runs}, not ${CURRENT_RUNTIME}`);
  for (const key of Object.keys(u.with))
    if (!(key in pin.inputs)) problems.push(`${u.file}: ${u.action}@${pin.version} has no input "${key}"`);
  for (const key of pin.required)
    if (!(key in u.with)) problems.push(`${u.file}: ${u.action}@${pin.version} requires input "${key}"`);
  return problems;
}

test('every action is the locked release: commit, version comment, current runtime, declared inputs', () => {
  const uses = usesLines();
  assert.ok(uses.length >= 20, `found only ${uses.length} uses: lines`);
  assert.deepEqual(
    uses.flatMap((u) => pinProblems(u, lock)),
    [],
  );
});

test('pinProblems catches an old pin, a wrong comment, a node20 runtime and an unknown input', () => {
  const pin: ActionPin = {
    version: 'v2.1.7',
    sha: 'a'.repeat(40),
    runs: 'node20',
    required: ['path'],
    inputs: { path: null },
    outputs: [],
  };
  const u: UsesLine = {
    file: 'x.yml',
    line: 'uses: o/a@' + 'b'.repeat(40) + ' # v2',
    action: 'o/a',
    sha: 'b'.repeat(40),
    comment: 'v2',
    with: { paht: 'x' },
  };
  const problems = pinProblems(u, { 'o/a': pin });
  for (const needle of [
    'pinned to bbbb',
    'should say # v2.1.7',
    'runs on node20',
    'no input "paht"',
    'requires input "path"',
  ]) {
    assert.ok(
      problems.some((p) => p.includes(needle)),
      `${needle} in ${problems.join('; ')}`,
    );
  }
  assert.deepEqual(pinProblems(u, {}), ['x.yml: o/a is not in .github/actions.lock.json']);
});

test('DVC installs from a resolvable set: dvc pinned exactly, pathspec capped below 1 (dvc 3.64.0 imports its removed _DIR_MARK)', () => {
  const train = readFileSync(join(here, 'workflows', 'train.yml'), 'utf8');
  const installs = train.split('\n').filter((l) => /pip"? install/.test(l));
  assert.ok(installs.length > 0, 'train.yml installs DVC with pip');
  for (const l of installs)
    assert.match(
      l,
      /-r \.github\/dvc-requirements\.txt/,
      `every pip install in train.yml reads the requirements file: ${l.trim()}`,
    );
  const reqs = readFileSync(join(here, 'dvc-requirements.txt'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
  const dvc = reqs.find((r) => /^dvc\[/.test(r));
  assert.match(dvc ?? '', /^dvc\[gs\]==3\.64\.0$/, 'dvc pinned to the version the project is checked against');
  const pathspec = reqs.find((r) => r.startsWith('pathspec'));
  assert.match(pathspec ?? '', /<\s*1(\.0)?(,|$)/, 'pathspec must stay below 1.0 while dvc is 3.64.0');
});
