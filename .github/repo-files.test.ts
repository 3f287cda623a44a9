/**
 * Repository files that tools outside this code read: `.gitignore` as DVC checks it (DVC's
 * `dvc add` / `dvc repro` ask scmrepo's dulwich backend whether each output is ignored and append
 * `/<name>` to the .gitignore beside it when it is not) and `.github/dependabot.yml`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..');

/**
 * Dulwich's question for a DVC output: is `path` (no trailing slash: DVC passes the output's path,
 * not a directory marker) or one of its parent directories (with `/`) matched? Handles the
 * pattern forms this repository uses: anchored literals (`/x`, `/x/`, `/a/b/`), unanchored
 * literals (`node_modules/`) and `*.ext`; negations are not used here and fail the test.
 */
export function dulwichIgnores(lines: string[], path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/') + (i < parts.length - 1 ? '/' : ''));
  let ignored = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    assert.ok(!line.startsWith('!'), `.gitignore negation ${line}: extend dulwichIgnores`);
    const dirOnly = line.endsWith('/');
    const body = line.replace(/^\//, '').replace(/\/$/, '');
    const anchored = line.startsWith('/') || body.includes('/');
    const re = new RegExp(
      `^${body
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*')}$`,
    );
    for (const c of candidates) {
      const isDir = c.endsWith('/');
      if (dirOnly && !isDir) continue;
      const name = c.replace(/\/$/, '');
      const subject = anchored ? name : name.split('/').pop()!;
      if (re.test(subject)) ignored = true;
    }
  }
  return ignored;
}

/** Every path DVC caches (and so git-ignores): data.dvc outs and dvc.yaml outs not `cache: false`. */
function dvcCachedOutputs(): string[] {
  const outs: string[] = (parse(readFileSync(join(root, 'data.dvc'), 'utf8')).outs ?? []).map(
    (o: { path: string }) => o.path,
  );
  const pipeline = parse(readFileSync(join(root, 'dvc.yaml'), 'utf8'));
  for (const stage of Object.values<{ outs?: unknown[] }>(pipeline.stages ?? {})) {
    for (const o of stage.outs ?? []) {
      if (typeof o === 'string') outs.push(o);
      else
        for (const [p, opts] of Object.entries(o as Record<string, { cache?: boolean }>))
          if (opts?.cache !== false) outs.push(p);
    }
  }
  return outs;
}

test('dulwichIgnores: a directory-only pattern does not cover the bare path DVC asks about', () => {
  assert.equal(dulwichIgnores(['/data/'], 'data'), false, "the first real run's bug: dvc add data appended /data");
  assert.equal(dulwichIgnores(['/data'], 'data'), true);
  assert.equal(dulwichIgnores(['/artifacts/'], 'artifacts/model'), true, 'a parent directory matches with its slash');
  assert.equal(dulwichIgnores(['*.log'], 'a/b.log'), true);
  assert.equal(dulwichIgnores(['/x/'], 'y/x/z'), false, 'anchored to the root');
});

test('.gitignore: every output DVC caches is already ignored the way DVC checks, so dvc add / repro append nothing', () => {
  const lines = readFileSync(join(root, '.gitignore'), 'utf8').split('\n');
  const outs = dvcCachedOutputs();
  assert.ok(outs.includes('data'), 'data.dvc tracks data/');
  for (const out of outs) {
    assert.ok(
      dulwichIgnores(lines, out),
      `${out}: DVC would append /${out.split('/').pop()} to ${join(dirname(out), '.gitignore')}; add /${out} to .gitignore`,
    );
  }
});

test('dependabot.yml keeps the pinned actions and the npm dependencies current', () => {
  const cfg = parse(readFileSync(join(root, '.github', 'dependabot.yml'), 'utf8'));
  assert.equal(cfg.version, 2);
  const ecosystems = new Map(
    (cfg.updates as { 'package-ecosystem': string; directory: string; schedule?: { interval?: string } }[]).map((u) => [
      u['package-ecosystem'],
      u,
    ]),
  );
  for (const eco of ['github-actions', 'npm']) {
    const u = ecosystems.get(eco);
    assert.ok(u, `dependabot.yml has no ${eco} entry`);
    assert.equal(u.directory, '/');
    assert.match(u.schedule?.interval ?? '', /^(daily|weekly|monthly)$/);
  }
});
