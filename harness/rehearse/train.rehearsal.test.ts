/**
 * train.yml from its YAML, really training: a manual dispatch with `max_batches: 1` (the
 * workflow's own input: one 15,000-record batch, so the real pipeline finishes in about a minute
 * here) runs ingest + the dvc.yaml pipeline, `dvc push` to the stand-in bucket, and the publish
 * job commits the results as the bot, pushes GTO tags and comments on the commit, and the sync job
 * moves the registry's production to what the tags say.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isGtoTag } from '../../core/registry/gto.ts';
import { openRegistry } from '../../core/registry/index.ts';
import { rehearse } from './index.ts';
import { BUCKET } from './scenarios.ts';

const REPO = join(import.meta.dirname, '..', '..');

test(
  'train.yml (workflow_dispatch, max_batches 1) trains, pushes data, commits, tags and comments',
  { timeout: 600_000 },
  async () => {
    const lines: string[] = [];
    const r = await rehearse({
      source: REPO,
      workflow: 'train',
      event: 'workflow_dispatch',
      print: (l) => lines.push(l),
      keep: true,
    });
    assert.deepEqual(r.failures, [], lines.slice(-60).join('\n'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', r.sandbox.origin, ...args], { encoding: 'utf8' }).trim();
    assert.match(
      git('log', '-1', '--format=%an|%s', 'refs/heads/model'),
      /^github-actions\[bot\]\|train: results of run \d+ \(workflow_dispatch\) \[skip ci\]$/,
    );
    const files = git('show', '--name-only', '--format=', 'refs/heads/model').split('\n');
    assert.ok(
      files.includes('dvc.lock') && files.some((f) => f.startsWith('metrics/')),
      `the results commit holds dvc.lock and metrics/: ${files.join(' ')}`,
    );
    const tags = git('tag', '--list').split('\n').filter(Boolean);
    assert.ok(tags.includes('flight-delay@v1.0.0'), `tags: ${tags.join(' ')}`);
    for (const t of tags) assert.ok(isGtoTag(t), `${t} is not a GTO tag`);
    const dvcPush = r.calls.find((c) => c.cmd === 'dvc' && c.args[0] === 'push');
    assert.ok(
      dvcPush &&
        dvcPush.code === 0 &&
        /gha-creds-[0-9a-f]{16}\.json$/.test(dvcPush.env.GOOGLE_APPLICATION_CREDENTIALS ?? ''),
      'dvc push ran with the credentials auth wrote',
    );
    assert.ok(
      readdirSync(join(r.sandbox.cloud, 'gcs', BUCKET, 'dvc', 'files', 'md5')).length > 0,
      'objects in the DVC remote (files/md5/xx/…)',
    );
    // The tags are the record: the pipeline left production to its tag, and the sync job moved the
    // registry the API reads after gh:tag pushed it, naming the tag (GTO's counter) it followed.
    const registry = await openRegistry(join(r.sandbox.cloud, 'gcs', BUCKET, 'registry'), {});
    assert.equal((await registry.state('flight-delay')).stages.production, 1);
    const promoted = (await registry.history('flight-delay')).filter((e) => e.stage === 'production');
    assert.equal(promoted.length, 1);
    assert.equal(promoted[0].source, 'git-tags');
    assert.ok(tags.includes(promoted[0].tags[0]), `${promoted[0].tags[0]} is one of the pushed tags`);
    assert.equal(r.sandbox.fake.commitComments.length, 1);
    assert.match(r.sandbox.fake.commitComments[0].body, /flight-delay v1/);
    rmSync(r.sandbox.root, { recursive: true, force: true });
  },
);
