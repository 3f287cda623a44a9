import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { memoryLogger } from '../core/platform/log.ts';
import { gitIn, openRegistry } from '../core/registry/index.ts';
import { makeBundle, steppingClock } from '../core/registry/testing/helpers.ts';
import { tempDir } from '../harness/testing/lifecycle.ts';
import { assignStage, gtoCounterAt } from './register-stage-tag.ts';

/** A registry holding v1 and v2 of `wine` in `repo`, v1 in production by the registry's own counter. */
async function registryIn(repo: string) {
  const registry = await openRegistry('registry', {
    baseDir: repo,
    log: memoryLogger(),
    env: {},
    clock: steppingClock(),
  });
  for (const i of [1, 2]) {
    const bundle = await makeBundle(join(repo, `b${i}`), { 'model.json': `{"v":${i}}` });
    await registry.register('wine', bundle, { metrics: { roc_auc: 0.7 } }, { actor: 'bot' });
  }
  await registry.setStage('wine', 'production', 1, { reason: 'first' });
  return registry;
}

/** A git checkout whose tags (by a person with gto) already use counters up to 7 for `wine`. */
async function checkoutWithTags() {
  const repo = await tempDir('stage-tag-');
  const git = gitIn(repo);
  await git(['init', '-q', '-b', 'model']);
  await git(['-c', 'user.name=a', '-c', 'user.email=a@x', 'commit', '-q', '--allow-empty', '-m', 'c']);
  const tag = (name: string, ...annotate: string[]) =>
    git(['-c', 'user.name=Alice', '-c', 'user.email=alice@x', 'tag', ...annotate, name, 'HEAD']);
  await tag('wine@v1.0.0', '-a', '-m', 'Registering artifact wine version v1.0.0');
  await tag('wine#production#1', '-a', '-m', 'Assigning stage production to artifact wine version v1.0.0');
  await tag('wine#staging!#6', '-a', '-m', "Unassigning stage 'staging' to artifact 'wine' version 'v1.0.0'");
  // A lightweight tag is no GTO event, but GTO still counts it (gto/tag.py name_tag lists every tag).
  await tag('wine#dev#7');
  // Another artifact's counters are its own.
  await tag('beer#production#40', '-a', '-m', 'Assigning stage production to artifact beer version v9.0.0');
  return repo;
}

test("gtoCounterAt: GTO's counter over the checkout's tags (highest on any tag of the model + 1), null outside git", async () => {
  const repo = await checkoutWithTags();
  assert.equal(await gtoCounterAt(repo, 'wine'), 8);
  assert.equal(await gtoCounterAt(repo, 'beer'), 41);
  assert.equal(await gtoCounterAt(repo, 'cider'), 1);
  assert.equal(await gtoCounterAt(join(repo, 'sub-dir-that-is-not-there'), 'wine'), null);
  assert.equal(await gtoCounterAt(await tempDir('no-git-'), 'wine'), null);
});

test('assignStage via the registry: moves it now, and the event names the tag with GTO counter, not the event count', async () => {
  const repo = await checkoutWithTags();
  const registry = await registryIn(repo);
  const a = await assignStage(registry, {
    repoRoot: repo,
    model: 'wine',
    stage: 'production',
    version: 2,
    via: 'registry',
    reason: 'better',
  });
  assert.deepEqual(a, { stage: 'production', from: 1, to: 2, tag: 'wine#production#8', applied: true });
  assert.equal((await registry.state('wine')).stages.production, 2);
  assert.deepEqual((await registry.history('wine')).at(-1)?.tags, ['wine#production#8']);
  assert.equal(
    await assignStage(registry, {
      repoRoot: repo,
      model: 'wine',
      stage: 'production',
      version: 2,
      via: 'registry',
      reason: 'again',
    }),
    null,
    'already there: nothing recorded',
  );
});

test('assignStage via tags (the train workflow): the registry does not move; the tag to create is named', async () => {
  const repo = await checkoutWithTags();
  const registry = await registryIn(repo);
  const events = (await registry.history('wine')).length;
  const a = await assignStage(registry, {
    repoRoot: repo,
    model: 'wine',
    stage: 'production',
    version: 2,
    via: 'tags',
    reason: 'better',
  });
  assert.deepEqual(a, { stage: 'production', from: 1, to: 2, tag: 'wine#production#8', applied: false });
  assert.equal((await registry.state('wine')).stages.production, 1, 'the API still reads v1 until the tag is pushed');
  assert.equal((await registry.history('wine')).length, events);
  // Outside a git checkout (no tags to count) the registry's own counter names it; gh:tag recomputes.
  const plain = await tempDir('no-git-');
  const other = await registryIn(plain);
  const b = await assignStage(other, {
    repoRoot: plain,
    model: 'wine',
    stage: 'staging',
    version: 2,
    via: 'tags',
    reason: 'x',
  });
  assert.deepEqual(b, { stage: 'staging', from: null, to: 2, tag: 'wine#staging#2', applied: false });
});
