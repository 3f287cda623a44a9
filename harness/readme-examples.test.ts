/**
 * The README's "Your own data" and its reference page docs/own-data.md cannot drift from the code:
 * their params snippets are verbatim excerpts of docs/examples/<name>/params.yaml, and every
 * example passes the up-front check `npm start` runs (against its source) and goes through ingest,
 * validate and prepare.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preflight } from '../training/preflight.ts';
import { ingest } from '../training/stages/ingest.ts';
import { validate } from '../training/stages/validate.ts';
import { prepare } from '../training/stages/prepare.ts';
import { noTrack, quietLog, tempRepo } from './testing/training/fixtures.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = 'docs/examples';

async function ownDataSection(): Promise<string> {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Your own data\n');
  assert.ok(start >= 0, 'README.md has a "Your own data" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

const examples = (await readdir(join(REPO, EXAMPLES), { withFileTypes: true }))
  .filter((e) => e.isDirectory() && existsSync(join(REPO, EXAMPLES, e.name, 'params.yaml')))
  .map((e) => `${EXAMPLES}/${e.name}/params.yaml`)
  .sort();

/** Each params snippet of a Markdown text checked against the file its first line names. */
async function checkSnippets(where: string, text: string): Promise<void> {
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length > 0, `${where} shows params`);
  for (const block of blocks) {
    const [first, ...rest] = block.split('\n');
    const named = /^# (docs\/examples\/[\w-]+\/params\.yaml)\b/.exec(first);
    assert.ok(
      named,
      `a params snippet starts with the file it comes from (# docs/examples/<name>/params.yaml): ${first}`,
    );
    const file = await readFile(join(REPO, named[1]), 'utf8');
    assert.ok(
      file.includes(rest.join('\n')),
      `${where}: the snippet from ${named[1]} is not a verbatim part of that file`,
    );
  }
}

test('README "Your own data" and docs/own-data.md: every params snippet is a verbatim excerpt of the example it names, and every example is named', async () => {
  const section = await ownDataSection();
  await checkSnippets('README "Your own data"', section);
  await checkSnippets('docs/own-data.md', await readFile(join(REPO, 'docs/own-data.md'), 'utf8'));
  assert.ok(examples.length >= 2, `examples found: ${examples.join(', ')}`);
  for (const path of examples) assert.ok(section.includes(path), `README "Your own data" names ${path}`);
  for (const m of section.matchAll(/docs\/examples\/[\w-]+\/params\.yaml/g))
    assert.ok(examples.includes(m[0]), `README names ${m[0]}, which does not exist`);
});

for (const path of examples)
  test(`${path} passes the up-front check against its source and runs through ingest, validate and prepare`, async () => {
    const repo = await tempRepo();
    try {
      await writeFile(join(repo, 'params.yaml'), await readFile(join(REPO, path), 'utf8'));
      const log = quietLog();
      const params = await preflight({ repoRoot: repo, against: 'source', log });
      // The pipeline's own check, once the raw store holds the source.
      const got = await ingest({ repoRoot: repo, params, log, track: noTrack });
      assert.equal(got.rows, got.sourceRows, 'an example ingests its whole (small) source');
      await preflight({ repoRoot: repo, against: 'raw-store', log });
      const checked = await validate({ repoRoot: repo, params, log });
      assert.ok(checked.rows_valid > 0.98 * got.rows, JSON.stringify(checked));
      const { spec } = await prepare({ repoRoot: repo, params, log });
      assert.equal(spec.target.column, params.task.target);
      assert.deepEqual(spec.dropped ?? [], [], 'every feature of the example is used');
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });
