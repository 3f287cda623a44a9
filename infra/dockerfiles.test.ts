/**
 * The two images (api/Dockerfile, training/Dockerfile): base images pinned by digest on a
 * current Node LTS, the same pin in both, and every COPY source present in the build context
 * (exists in the repository and is not excluded by .dockerignore).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importClosure } from '../training/pipeline/generate.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCKERFILES = ['api/Dockerfile', 'training/Dockerfile'];
/** Oldest Node major that is still an LTS line in service (Node 20 reached end of life in April 2026). */
const MIN_LTS_MAJOR = 24;

interface From {
  image: string;
  stage?: string;
  line: number;
}
const PINNED = /^(?<name>[a-z0-9][a-z0-9._/-]*):(?<tag>[A-Za-z0-9._-]+)@sha256:[0-9a-f]{64}$/;

export function fromLines(text: string): From[] {
  return text.split('\n').flatMap((raw, i) => {
    const m = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(raw);
    return m ? [{ image: m[1], stage: m[2], line: i + 1 }] : [];
  });
}

/** Problems with the FROM lines: each must be an earlier stage or `image:tag@sha256:<64 hex>` on Node LTS ≥ MIN_LTS_MAJOR. */
export function baseImageProblems(text: string): string[] {
  const problems: string[] = [];
  const stages = new Set<string>();
  for (const f of fromLines(text)) {
    if (stages.has(f.image)) {
      if (f.stage) stages.add(f.stage);
      continue;
    }
    const m = PINNED.exec(f.image);
    if (!m) problems.push(`line ${f.line}: FROM ${f.image} is not pinned as image:tag@sha256:<64 hex>`);
    else if (m.groups!.name === 'node') {
      const major = Number(/^(\d+)/.exec(m.groups!.tag)?.[1]);
      if (!(major >= MIN_LTS_MAJOR && major % 2 === 0))
        problems.push(
          `line ${f.line}: node ${m.groups!.tag} is not a current LTS line (even major ≥ ${MIN_LTS_MAJOR})`,
        );
    }
    if (f.stage) stages.add(f.stage);
  }
  return problems;
}

function copySources(text: string): string[] {
  return text.split('\n').flatMap((raw) => {
    const m = /^\s*COPY\s+(?!--from)(.*)$/i.exec(raw);
    if (!m) return [];
    const parts = m[1].split(/\s+/).filter((p) => p && !p.startsWith('--'));
    return parts.slice(0, -1); // the last one is the destination
  });
}

/** .dockerignore entries without wildcards exclude that path and everything under it. */
function excludedBy(ignore: string[], path: string): string | undefined {
  const clean = path.replace(/^\.\//, '').replace(/\/$/, '');
  return ignore.find((p) => !/[*?]/.test(p) && (clean === p || clean.startsWith(`${p}/`)));
}

test('the FROM check accepts a digest pin and rejects tag-only and end-of-life bases', () => {
  const digest = 'a'.repeat(64);
  assert.deepEqual(
    baseImageProblems(`FROM node:24.1.0-bookworm-slim@sha256:${digest} AS deps\nFROM deps AS runtime\n`),
    [],
  );
  assert.match(baseImageProblems('FROM node:22.12.0-bookworm-slim AS deps\n').join(), /line 1: .* not pinned/);
  assert.match(baseImageProblems(`FROM node:20-bookworm@sha256:${digest}\n`).join(), /not a current LTS/);
  assert.match(baseImageProblems(`FROM node:25.0.0@sha256:${digest}\n`).join(), /not a current LTS/);
  assert.match(baseImageProblems('FROM node@sha256:abc\n').join(), /not pinned/);
});

for (const file of DOCKERFILES) {
  test(`${file}: every base image is image:tag@sha256 on a current Node LTS`, () => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    assert.ok(fromLines(text).length >= 2, 'multi-stage build');
    assert.deepEqual(baseImageProblems(text), []);
  });

  test(`${file}: every COPY source exists and is inside the build context`, () => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const src of copySources(text)) {
      assert.ok(existsSync(join(ROOT, src)), `${file}: COPY ${src} does not exist in the repository`);
      assert.equal(excludedBy(ignore, src), undefined, `${file}: COPY ${src} is excluded by .dockerignore`);
    }
  });
}

/** Docker's .dockerignore pattern (Go filepath.Match plus `**`) as a regular expression. */
function dockerIgnoreRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/^\.?\//, '')
    .split('/')
    .map((part) =>
      part === '**'
        ? '(?:.*/)?'
        : `${part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]')}/`,
    )
    .join('');
  return new RegExp(`^${body.replace(/\/$/, '')}(?:/.*)?$`);
}

test('the build context never takes the credentials files the auth actions write into the workspace', () => {
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const excluded = (path: string) => ignore.some((p) => !p.startsWith('!') && dockerIgnoreRegExp(p).test(path));
  for (const path of [
    'gha-creds-0123456789abcdef.json',
    'api/gha-creds-0123456789abcdef.json',
    'gha-kubeconfig-0123abcd',
    '.env',
  ])
    assert.ok(excluded(path), `${path} must be excluded by .dockerignore`);
  for (const path of ['api/server.ts', 'core/model/forward.ts', 'package.json'])
    assert.ok(!excluded(path), `${path} must stay in the build context`);
});

test('both images build on the same pinned base', () => {
  const bases = DOCKERFILES.map(
    (f) =>
      new Set(
        fromLines(readFileSync(join(ROOT, f), 'utf8'))
          .map((x) => x.image)
          .filter((i) => PINNED.test(i)),
      ),
  );
  assert.deepEqual([...bases[0]], [...bases[1]]);
  assert.equal(bases[0].size, 1);
});

test('the trainer image knows the commit it was built from (it holds no .git), and CI passes it', () => {
  const text = readFileSync(join(ROOT, 'training/Dockerfile'), 'utf8');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  assert.match(runtime, /^ARG SOURCE_COMMIT\b/m, 'the runtime stage declares the build argument');
  assert.match(
    runtime,
    /^\s*SOURCE_COMMIT=\$\{SOURCE_COMMIT\}/m,
    'and keeps it in the environment (training/lineage.ts)',
  );
  const workflow = readFileSync(join(ROOT, '.github/workflows/trainer-image.yml'), 'utf8');
  assert.match(workflow, /--build-arg "?SOURCE_COMMIT=\$\{GITHUB_SHA\}"?/);
  assert.match(readFileSync(join(ROOT, 'training/lineage.ts'), 'utf8'), /env\.SOURCE_COMMIT/);
});

test('the trainer image holds every file the trainer Job runs and imports (COPY sources, not .dockerignore-d)', async () => {
  const { parse } = await import('yaml');
  const job = parse(readFileSync(join(ROOT, 'infra/k8s/jobs/trainer-job.yaml'), 'utf8'));
  const script: string = job.spec.template.spec.containers[0].args.join('\n');
  const entries = [...script.matchAll(/^\s*(?:again )?node --import tsx (\S+\.ts)\b/gm)].map((m) => m[1]);
  assert.ok(entries.length >= 3, `the Job's script runs its steps with node: ${script}`);
  const text = readFileSync(join(ROOT, 'training/Dockerfile'), 'utf8');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const copied = copySources(runtime).map((p) => p.replace(/\/$/, ''));
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
  // The pipeline's own closure (dvc.yaml deps): imports, and the worker threads' scripts too.
  const files = [...new Set((await Promise.all(entries.map((e) => importClosure(ROOT, e)))).flat())];
  assert.ok(files.includes('training/registry/run-results.ts'), 'put-run is among the imports');
  const missing = files.filter(
    (f) => !copied.some((c) => f === c || f.startsWith(`${c}/`)) || ignore.some((p) => dockerIgnoreRegExp(p).test(f)),
  );
  assert.deepEqual(missing, [], 'files the Job imports that the image does not hold');
  assert.ok(copied.includes('.dvc/config'), 'the DVC push reads .dvc/config (the Job adds config.local)');
});
