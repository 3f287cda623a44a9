import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../../core/platform/log.ts';
import { FakeGcs } from '../../harness/testing/core/fake-gcs.ts';
import { openRegistry } from '../../core/registry/index.ts';
import { makeBundle, steppingClock } from '../../core/registry/testing/helpers.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';
import { main, type RegistryCliIo } from './cli.ts';
import { primaryMetric } from './format.ts';
import { gitIn, readGitTags } from '../../core/registry/gto-git.ts';
import { gtoArtifactState } from '../../core/registry/gto-state.ts';

async function repoWithModel(versions = 3) {
  const repo = await tempDir('registry-cli-');
  const registry = await openRegistry('registry', {
    baseDir: repo,
    log: memoryLogger(),
    env: {},
    clock: steppingClock(),
  });
  const bundle = await makeBundle(join(repo, 'bundle'), { 'model.json': '{}', 'weights.bin': 'w' });
  for (let i = 1; i <= versions; i++) {
    await registry.register(
      'flight-delay',
      bundle,
      {
        metrics: { roc_auc: 0.6 + i / 100, accuracy: 0.8 },
        params: { train: { epochs: i } },
        git_commit: `c${i}`,
        created_at: `2025-03-0${i}T10:00:00Z`,
        // v3 was trained after the data grew: its test rows are others.
        data_md5: i < 3 ? 'aaaabbbbccccdddd0000111122223333.dir' : 'eeeeffff000011112222333344445555.dir',
        extra: { rows_test: i < 3 ? 100 : 180 },
      },
      { actor: 'pipeline-bot', source: 'pipeline' },
    );
  }
  return { repo, registry };
}

function cli(repo: string, env: Record<string, string> = {}, extra: Partial<RegistryCliIo> = {}) {
  const log = memoryLogger();
  let out = '';
  let stderr = '';
  const run = async (...argv: string[]) => {
    out = '';
    stderr = '';
    log.lines.length = 0;
    // These fixtures are not model bundles; the production check has its own test below.
    const code = await main(argv, {
      log,
      cwd: repo,
      env: { GITHUB_ACTOR: 'octocat', ...env },
      write: (t) => void (out += t),
      stderr: (t) => void (stderr += t),
      clock: steppingClock('2025-04-01T00:00:00Z'),
      checkBundle: () => Promise.resolve(null),
      ...extra,
    });
    // Failures and usage errors are `registry: <message>` on stderr (core/platform/cli.ts); warnings are logged.
    const logged = log.lines.map((l) => JSON.parse(l).msg as string);
    return { code, out, stderr, errors: [stderr, ...logged].join('\n') };
  };
  return run;
}

/** A dvc.lock whose train stage records the model bundle `md5` (what promote looks for in a commit). */
const lockWith = (md5: string) =>
  `schema: '2.0'\nstages:\n  train:\n    cmd: node train.ts\n    outs:\n    - path: artifacts/model\n      hash: md5\n      md5: ${md5}\n`;

test('registry CLI: list, show, promote, rollback, history with tables and JSON', async () => {
  const { repo } = await repoWithModel();
  const run = cli(repo);

  let r = await run('list');
  assert.equal(r.code, 0);
  assert.match(
    r.out,
    /^flight-delay in .*registry\nversion\s+stages\s+created\s+registered\s+roc_auc\s+test rows \(data\)\s+by\nv3\s+-\s+2025-03-03 10:00:00Z\s+2025-03-01 12:00:02Z\s+0\.63\d*\s+180 \(eeeeffff\)\s+pipeline-bot\nv2 .*100 \(aaaabbbb\)/,
  );
  assert.match(
    r.out,
    /\nthe roc_auc column comes from 2 different test sets .*: it ranks only versions measured on the same one; register scores production again/,
  );

  r = await run('promote', '2', 'production', '--reason', 'best validation auc');
  assert.equal(r.code, 0, r.errors);
  assert.equal(r.out, 'flight-delay production: v- → v2  (flight-delay#production#1)\n');
  r = await run('promote', 'v3', 'production', '--reason', 'retrained on fresh data', '--actor', 'alice');
  assert.equal(r.out, 'flight-delay production: v2 → v3  (flight-delay#production#2)\n');
  r = await run('promote', 'production', 'staging', '--reason', 'mirror', '--json');
  const change = JSON.parse(r.out);
  assert.deepEqual(
    [change.stage, change.from, change.to, change.changed, change.event.source, change.event.actor],
    ['staging', null, 3, true, 'cli', 'octocat'],
  );
  r = await run('promote', '3', 'production', '--reason', 'again');
  assert.equal(r.out, 'flight-delay production already at v3; nothing changed\n');

  r = await run('list');
  assert.match(r.out, /\nv3\s+production,staging\s/);
  assert.match(r.out, /\nv1\s+-\s/);

  r = await run('rollback', 'production', '--reason', 'p99 latency doubled');
  assert.equal(r.code, 0, r.errors);
  assert.equal(r.out, 'flight-delay production rolled back: v3 → v2  (flight-delay#production#4)\n');

  r = await run('show', 'production');
  assert.equal(r.code, 0);
  assert.match(r.out, /^flight-delay v2 {2}\[production\]\n/);
  assert.match(r.out, /registered\s+2025-03-01 12:00:01Z by pipeline-bot via pipeline/);
  assert.match(r.out, /git commit\s+c2/);
  assert.match(r.out, /metrics\n {2}roc_auc\s+0\.62\n {2}accuracy\s+0\.8\n/);
  assert.match(r.out, /params\n {2}train\.epochs\s+2/);
  assert.match(r.out, /files\n {2}model\.json\s+2 B\s+99914b932bd37a50b983c5e7c90ae93b\n {2}weights\.bin\s+1 B/);
  r = await run('show', 'latest', '--json');
  const latest = JSON.parse(r.out);
  assert.deepEqual([latest.version, latest.latest, latest.stages], [3, true, ['staging']]);
  assert.equal(JSON.parse((await run('show', 'v1', '--json')).out).git_commit, 'c1');

  r = await run('history');
  assert.equal(r.code, 0);
  const lines = r.out.trim().split('\n');
  assert.match(lines[0], /^#\s+time\s+event\s+stage\s+change\s+actor\s+source\s+reason\s+tags$/);
  assert.match(
    lines[1],
    /^1\s+2025-03-01 12:00:00Z\s+register\s+-\s+- → v1\s+pipeline-bot\s+pipeline\s+-\s+flight-delay@v1.0.0$/,
  );
  assert.match(
    lines.at(-1)!,
    /^tags: the names GTO gives these events, not checked against git \(no git checkout here\)/,
  );
  assert.match(
    lines.at(-2)!,
    /^7\s+2025-04-01 00:00:00Z\s+rollback\s+production\s+v3 → v2\s+octocat\s+cli\s+p99 latency doubled\s+flight-delay#production#4$/,
  );
  const events = JSON.parse((await run('history', '--json')).out);
  assert.deepEqual(
    events.map((e: { type: string }) => e.type),
    ['register', 'register', 'register', 'promote', 'promote', 'promote', 'rollback'],
  );
  assert.equal(events[4].actor, 'alice');

  r = await run('verify');
  assert.equal(r.code, 0);
  assert.equal(r.out, 'flight-delay: 3 versions verified, history consistent\n');
});

test('registry CLI: clear errors exit 1, usage errors exit 2', async () => {
  const { repo, registry } = await repoWithModel(2);
  const run = cli(repo);
  const expect1 = async (argv: string[], message: RegExp) => {
    const r = await run(...argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.stderr, /^registry: /, argv.join(' '));
    assert.match(r.errors, message, argv.join(' '));
  };
  await expect1(['show', '9'], /model 'flight-delay' has no version 9 \(known versions: 1, 2\)/);
  await expect1(['show', 'production'], /no version at stage 'production' \(no stage is assigned yet\)/);
  await expect1(['promote', '9', 'production', '--reason', 'x'], /no version 9/);
  await expect1(['promote', '1', 'production'], /promoting flight-delay v1 to production needs a reason/);
  await expect1(['rollback', 'production', '--reason', 'x'], /nothing at stage 'production' to roll back/);
  await expect1(['rollback', 'production'], /needs a reason/);
  await expect1(['list', 'other-model'], /no model 'other-model' in .* \(models: flight-delay\)/);
  await expect1(['history', '--model', 'nope'], /no model 'nope'/);

  for (const argv of [
    [],
    ['explode'],
    ['show'],
    ['promote', '1'],
    ['rollback'],
    ['list', 'a', 'b'],
    ['--nope'],
    ['show', 'v1.2'],
    ['promote', '1', 'Prod', '--reason', 'x'],
  ]) {
    const r = await run(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(
      r.stderr,
      /^registry: .*\nusage: npm run registry -- <command> \[options\] {2}\(see --help\)\n$/,
      argv.join(' '),
    );
  }
  // A stage named like a misspelt known one is refused before anything moves; --force creates it.
  const typo = await run('promote', '1', 'prod', '--reason', 'x');
  assert.equal(typo.code, 2);
  assert.match(
    typo.stderr,
    /^registry: stage 'prod' is not one the API or the workflows read; did you mean 'production'\?/,
  );
  assert.equal((await run('promote', '1', 'stagin', '--reason', 'x')).code, 2);
  assert.equal((await run('promote', '1', 'canary', '--reason', 'x')).code, 0, 'a stage of its own is fine');
  assert.equal((await run('promote', '1', 'prod', '--reason', 'x', '--force')).code, 0);
  // rollback and demote name a stage the model has: a typo is exit 2 with the nearest, not "already empty".
  const demoteTypo = await run('demote', 'prodution', '--reason', 'x');
  assert.equal(demoteTypo.code, 2);
  assert.match(demoteTypo.stderr, /^registry: flight-delay has no stage 'prodution'; did you mean 'production'\?/);
  assert.equal((await run('rollback', 'Production', '--reason', 'x')).code, 2);
  assert.equal((await run('demote', 'prod', '--reason', 'x')).code, 0, 'a stage made with --force can be emptied');
  const help = await run('--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: npm run registry -- <command>/);

  // Damage a stored file: verify reports it and fails.
  const v1 = await registry.getVersion('flight-delay', 1);
  const stored = join(repo, 'registry', v1.bundle.path, 'weights.bin');
  await chmod(stored, 0o644);
  await writeFile(stored, 'tampered');
  const r = await run('verify', '--json');
  assert.equal(r.code, 1);
  assert.deepEqual(JSON.parse(r.out).problems, [
    'v1: weights.bin: 8 bytes, expected 1',
    'v2: weights.bin: 8 bytes, expected 1',
  ]);
});

test('registry CLI: --registry, --model, REGISTRY_URL and MODEL_NAME pick the registry and model; gs:// works', async () => {
  const { repo } = await repoWithModel(1);
  const elsewhere = await tempDir('registry-cli-other-');
  const other = await openRegistry(join(elsewhere, 'r'), { log: memoryLogger(), env: {} });
  await other.register('churn', await makeBundle(join(elsewhere, 'b'), { 'x.json': '1' }), { metrics: { f1: 0.5 } });

  const byEnv = await cli(repo, { REGISTRY_URL: join(elsewhere, 'r'), MODEL_NAME: 'churn' })('list');
  assert.equal(byEnv.code, 0, byEnv.errors);
  assert.match(
    byEnv.out,
    /^churn in .*\/r\nversion\s+stages\s+created\s+registered\s+f1\s+test rows \(data\)\s+by\nv1\s/,
  );
  const byFlags = await cli(repo)('list', '--registry', join(elsewhere, 'r'), '--model', 'churn', '--json');
  assert.equal(JSON.parse(byFlags.out)[0].model, 'churn');
  const positional = await cli(repo, { REGISTRY_URL: join(elsewhere, 'r') })('history', 'churn');
  assert.match(positional.out, /churn@v1\.0\.0/);

  const fake = new FakeGcs();
  const gcs = await openRegistry('gs://bucket/reg', { storage: fake, log: memoryLogger(), env: {} });
  await gcs.register('flight-delay', await makeBundle(join(elsewhere, 'g'), { 'm.json': '{}' }), {});
  const run = cli(repo, {}, { storage: fake });
  const promoted = await run('promote', '1', 'production', '--reason', 'first', '--registry', 'gs://bucket/reg');
  assert.equal(promoted.code, 0, promoted.errors);
  assert.equal((await gcs.getStage('flight-delay', 'production'))?.version, 1);
});

test('primaryMetric: extra.primary_metric first, then well-known metrics at the top level or under test', () => {
  assert.deepEqual(primaryMetric({ metrics: { accuracy: 0.9, roc_auc: 0.7 }, extra: {} }), {
    name: 'roc_auc',
    value: 0.7,
  });
  assert.deepEqual(primaryMetric({ metrics: { test: { f1: 0.4 } }, extra: {} }), { name: 'test.f1', value: 0.4 });
  assert.deepEqual(
    primaryMetric({ metrics: { roc_auc: 0.7, custom: { score: 3 } }, extra: { primary_metric: 'custom.score' } }),
    { name: 'custom.score', value: 3 },
  );
  assert.deepEqual(primaryMetric({ metrics: { test: { roc_auc: 0.7, f1: 0.5 } }, extra: { primary_metric: 'f1' } }), {
    name: 'test.f1',
    value: 0.5,
  });
  assert.equal(primaryMetric({ metrics: { loss: 1 }, extra: {} }), null);
});

test('registry CLI: production only gets a bundle that loads and reproduces finite golden outputs (--force overrides)', async () => {
  const { trainedRepo } = await import('../../harness/testing/training/pipeline.ts');
  const { readFile: read } = await import('node:fs/promises');
  const { repo } = await trainedRepo({}, { max_epochs: 1 });
  const registry = await openRegistry('registry', { baseDir: repo, log: memoryLogger(), env: {} });
  await registry.register('flight-delay', join(repo, 'artifacts', 'model'), {}, { source: 'test' });
  const weights = join(repo, 'artifacts', 'model', 'weights.bin');
  const goodWeights = await read(weights);
  await writeFile(weights, Buffer.from(new Float32Array(goodWeights.byteLength / 4).fill(NaN).buffer));
  await registry.register('flight-delay', join(repo, 'artifacts', 'model'), {}, { source: 'test' });
  const run = cli(repo, {}, { checkBundle: undefined });
  let r = await run('promote', '2', 'production', '--reason', 'looks fine');
  assert.equal(r.code, 1);
  assert.match(r.errors, /refusing to promote flight-delay v2 to production: .*non-finite value/);
  assert.equal(await registry.getStage('flight-delay', 'production'), null);
  assert.equal(
    (await run('promote', '2', 'staging', '--reason', 'inspect it')).code,
    0,
    'other stages are not checked',
  );
  assert.equal((await run('promote', '1', 'production', '--reason', 'good one')).code, 0);
  r = await run('promote', '2', 'production', '--reason', 'operator knows best', '--force');
  assert.equal(r.code, 0);
  assert.equal((await registry.getStage('flight-delay', 'production'))!.version, 2);

  // Calibration parameters too: an infinite one (JSON 1e999) and isotonic knots that cannot interpolate.
  await writeFile(weights, goodWeights);
  const metaPath = join(repo, 'artifacts', 'model', 'bundle.json');
  const meta = JSON.parse(await read(metaPath, 'utf8'));
  const broken = [
    {
      text: JSON.stringify({ ...meta, calibration: { method: 'platt', a: 1, b: 0 } }).replace('"b":0', '"b":1e999'),
      why: /calibration/,
    },
    {
      text: JSON.stringify({ ...meta, calibration: { method: 'isotonic', x: [0.2, 0.1], y: [0.1, 0.3] } }),
      why: /knot x\[1\] = 0\.1 does not increase/,
    },
  ];
  for (const [i, b] of broken.entries()) {
    await writeFile(metaPath, b.text);
    const v = (await registry.register('flight-delay', join(repo, 'artifacts', 'model'), {}, { source: 'test' }))
      .version;
    r = await run('promote', String(v), 'production', '--reason', `calibration ${i}`);
    assert.equal(r.code, 1, r.out);
    assert.match(r.errors, new RegExp(`refusing to promote flight-delay v${v} to production: .*${b.why.source}`));
  }
  assert.equal((await registry.getStage('flight-delay', 'production'))!.version, 2);
});

/**
 * A checkout whose registry (registry/) and GTO tags have drifted apart: the pipeline tagged v1
 * (production) and v2 (staging); then Alice, with gto, registered v2.0.1 and assigned v1.0.0 to
 * staging. The registry still says staging = v2 and also holds v3, which no tag mentions.
 */
async function checkoutWithTags() {
  const repo = await tempDir('registry-cli-git-');
  const git = gitIn(repo);
  const as = (who: string, iso: string) =>
    gitIn(repo, {
      ...process.env,
      GIT_COMMITTER_NAME: who,
      GIT_COMMITTER_EMAIL: `${who.toLowerCase()}@example.com`,
      GIT_COMMITTER_DATE: iso,
    });
  await git(['init', '-q', '-b', 'model']);
  await git(['config', 'user.name', 'octocat']);
  await git(['config', 'user.email', 'octocat@example.com']);
  const commits: string[] = [];
  for (const msg of ['results v1', 'results v2', 'alice: v2.0.1', 'results v3']) {
    await git(['commit', '-q', '--allow-empty', '-m', msg]);
    commits.push((await git(['rev-parse', 'HEAD'])).trim());
  }
  const [c1, c2, alice, c3] = commits;
  const ci1 = as('ci', '2025-01-01T00:00:00Z');
  await ci1(['tag', '-a', 'flight-delay@v1.0.0', '-m', 'Registering artifact flight-delay version v1.0.0', c1]);
  await ci1([
    'tag',
    '-a',
    'flight-delay#production#1',
    '-m',
    'Assigning stage production to artifact flight-delay version v1.0.0',
    c1,
  ]);
  const ci2 = as('ci', '2025-02-01T00:00:00Z');
  await ci2(['tag', '-a', 'flight-delay@v2.0.0', '-m', 'Registering artifact flight-delay version v2.0.0', c2]);
  await ci2([
    'tag',
    '-a',
    'flight-delay#staging#2',
    '-m',
    'Assigning stage staging to artifact flight-delay version v2.0.0',
    c2,
  ]);
  await as(
    'Alice',
    '2025-03-01T10:00:00Z',
  )([
    'tag',
    '-a',
    'flight-delay#staging#3',
    '-m',
    'Assigning stage staging to artifact flight-delay version v1.0.0',
    c1,
  ]);
  await as(
    'Alice',
    '2025-03-02T10:00:00Z',
  )(['tag', '-a', 'flight-delay@v2.0.1', '-m', 'Registering artifact flight-delay version v2.0.1', alice]);

  const registry = await openRegistry('registry', {
    baseDir: repo,
    log: memoryLogger(),
    env: {},
    clock: steppingClock(),
  });
  const bundles = await tempDir('registry-cli-bundles-');
  for (const [i, commit] of [c1, c2, c3].entries()) {
    const bundle = await makeBundle(join(bundles, `b${i}`), { 'model.json': `{"v":${i}}` });
    await registry.register(
      'flight-delay',
      bundle,
      { metrics: { roc_auc: 0.7 + i / 100 }, git_commit: commit },
      { actor: 'pipeline-bot' },
    );
  }
  await registry.setStage('flight-delay', 'production', 1, { reason: 'first' });
  await registry.setStage('flight-delay', 'staging', 2, { reason: 'second' });
  return { repo, registry, git, c1, c2, c3, alice };
}

/** An empty git repository on branch main with a committer set. */
async function gitRepoOnMain(prefix: string) {
  const repo = await tempDir(prefix);
  const git = gitIn(repo);
  await git(['init', '-q', '-b', 'main']);
  await git(['config', 'user.name', 'octocat']);
  await git(['config', 'user.email', 'octocat@example.com']);
  return { repo, git };
}

const gtoNow = async (repo: string) => gtoArtifactState(await readGitTags(gitIn(repo)), 'flight-delay');

test('registry CLI in a git checkout: list and show include GTO versions from tags, and say where stages disagree', async () => {
  const { repo, c2, alice } = await checkoutWithTags();
  const run = cli(repo);
  let r = await run('list');
  assert.equal(r.code, 0, r.errors);
  const lines = r.out.trimEnd().split('\n');
  assert.match(lines[0], /^flight-delay in .*registry; git tags of .*registry-cli-git-/);
  assert.match(lines[1], /^version\s+stages\s+gto\s+created\s+registered\s+roc_auc\s+test rows \(data\)\s+by$/);
  assert.match(lines[2], /^v3\s+-\s+-\s+-\s+2025-03-01 12:00:02Z\s+0\.72\s+-\s+pipeline-bot$/);
  assert.match(lines[3], /^v2\.0\.1\s+-\s+tags only\s+-\s+2025-03-02 10:00:00Z\s+-\s+-\s+Alice$/);
  assert.match(lines[4], /^v2\s+staging\s+v2\.0\.0\s+-/);
  assert.match(lines[5], /^v1\s+production\s+v1\.0\.0 \[production, staging\]\s+-/);
  assert.equal(lines[6], 'tags only: registered with GTO, no bundle in the registry (v2.0.1)');
  assert.equal(lines[7], 'stages disagree:');
  assert.equal(
    lines[8],
    '  staging: the registry says v2, GTO says v1.0.0 (tag flight-delay#staging#3 by Alice on 2025-03-01 10:00:00Z)',
  );
  assert.match(lines[9], /sync-from-tags` makes the registry follow them/);
  const json = JSON.parse((await run('list', '--json')).out);
  assert.deepEqual(
    json.map((v: { version?: number; tag_only?: boolean; gto: { version: string } | null }) => [
      v.version ?? null,
      v.tag_only ?? false,
      v.gto?.version ?? null,
    ]),
    [
      [1, false, 'v1.0.0'],
      [2, false, 'v2.0.0'],
      [3, false, null],
      [null, true, 'v2.0.1'],
    ],
  );

  // show: a registry version by any of its names, with what GTO says of it; a tags-only version.
  r = await run('show', 'v2.0.0');
  assert.match(r.out, /^flight-delay v2 {2}\[staging\]\n/);
  assert.match(
    r.out,
    new RegExp(
      `\\ngto\\s+v2\\.0\\.0 at ${c2.slice(0, 12)} \\(tag flight-delay@v2\\.0\\.0 by ci on 2025-02-01 00:00:00Z\\)\\n`,
    ),
  );
  for (const ref of ['3', 'v3', 'v3.0.0']) {
    r = await run('show', ref);
    assert.equal(r.code, 0, `${ref}: ${r.errors}`);
    assert.match(r.out, /^flight-delay v3 {2}\(latest\)\n[^]*\ngto\s+no tag: GTO does not know v3\.0\.0/, ref);
  }
  r = await run('show', 'v2.0.1');
  assert.equal(r.code, 0, r.errors);
  assert.match(r.out, /^flight-delay v2\.0\.1 {2}\(git tags only: the registry holds no bundle for it\)\n/);
  assert.match(r.out, new RegExp(`\\ncommit\\s+${alice}\\n`));
  assert.match(
    r.out,
    /\nregistered\s+2025-03-02 10:00:00Z by Alice: Registering artifact flight-delay version v2\.0\.1\n/,
  );
  assert.equal(JSON.parse((await run('show', 'v2.0.1', '--json')).out).gto.commit, alice);
  r = await run('show', 'v9.0.0');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no version 9 \(known versions: 1, 2, 3\)/);
  r = await run('show', 'v2.0.2');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no version v2\.0\.2 of 'flight-delay': .* no tag of .* registers v2\.0\.2/);
  r = await run('promote', 'v2.0.1', 'production', '--reason', 'x');
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /flight-delay v2\.0\.1 exists only as git tags \(tag flight-delay@v2\.0\.1 by Alice on .*\): the registry holds no bundle for it/,
  );

  // --git none: the registry alone, as outside a checkout.
  r = await run('list', '--git', 'none');
  assert.match(
    r.out,
    /^flight-delay in .*registry\nversion\s+stages\s+created\s+registered\s+roc_auc\s+test rows \(data\)\s+by\nv3 /,
  );
});

test('registry CLI: a rollback out of an empty stage (after demote) says it came from none', async () => {
  const { repo } = await repoWithModel(1);
  const run = cli(repo);
  await run('promote', '1', 'production', '--reason', 'first');
  assert.equal((await run('demote', 'production', '--reason', 'bad')).code, 0);
  const r = await run('rollback', 'production', '--reason', 'it was fine');
  assert.equal(r.code, 0, r.errors);
  assert.match(r.out, /^flight-delay production rolled back: v- → v1 {2}\(/);
});

test('registry CLI in a git checkout: promote, rollback and demote create the GTO tags that say the same', async () => {
  const { repo, registry, c2, c3 } = await checkoutWithTags();
  const run = cli(repo);
  let r = await run('promote', '3', 'staging', '--reason', 'fresh data');
  assert.equal(r.code, 0, r.errors);
  const out = r.out.trimEnd().split('\n');
  // GTO had no v3.0.0: it is registered at the commit the registry recorded, then assigned with
  // GTO's counter (Alice's #3 + 1), not the registry's.
  assert.equal(out[0], 'flight-delay staging: v2 → v3  (flight-delay@v3.0.0 flight-delay#staging#4)');
  assert.match(out[1], new RegExp(`^created tag flight-delay@v3\\.0\\.0 at ${c3.slice(0, 12)} in `));
  assert.match(out[2], new RegExp(`^created tag flight-delay#staging#4 at ${c3.slice(0, 12)} in `));
  assert.equal(out[3], "push to publish: git push origin flight-delay@v3.0.0 'flight-delay#staging#4'");
  let gto = await gtoNow(repo);
  assert.equal(gto.stages.staging.version, 'v3.0.0');
  assert.equal(gto.stages.staging.assignment.by, 'octocat');
  assert.match(
    gto.stages.staging.assignment.message,
    /^Assigning stage staging to artifact flight-delay version v3\.0\.0\n\nfresh data$/,
  );
  assert.deepEqual((await registry.history('flight-delay')).at(-1)!.tags, [
    'flight-delay@v3.0.0',
    'flight-delay#staging#4',
  ]);

  r = await run('promote', 'v3.0.0', 'staging', '--reason', 'again');
  assert.match(
    r.out,
    /^flight-delay staging already at v3; nothing changed\nGTO already shows staging = v3\.0\.0 \(tag flight-delay#staging#4 by octocat on .*\): no tag needed\n$/,
  );

  r = await run('rollback', 'staging', '--reason', 'v3 is slow');
  assert.equal(r.code, 0, r.errors);
  assert.match(
    r.out,
    new RegExp(
      `^flight-delay staging rolled back: v3 → v2  \\(flight-delay#staging#5\\)\\ncreated tag flight-delay#staging#5 at ${c2.slice(0, 12)} `,
    ),
  );
  gto = await gtoNow(repo);
  assert.equal(gto.stages.staging.version, 'v2.0.0');

  // GTO still has v2.0.0, v3.0.0 and v1.0.0 assigned to staging (an assignment does not unassign
  // the others): clearing it takes an unassignment of each.
  assert.deepEqual(gto.inStage.staging, ['v2.0.0', 'v3.0.0', 'v1.0.0']);
  r = await run('demote', 'staging', '--reason', 'no candidate now');
  assert.equal(r.code, 0, r.errors);
  assert.match(
    r.out,
    /^flight-delay staging demoted: v2 → - {2}\(flight-delay#staging!#6 flight-delay#staging!#7 flight-delay#staging!#8\)\n/,
  );
  assert.match(
    r.out,
    /\npush to publish: git push origin 'flight-delay#staging!#6' 'flight-delay#staging!#7' 'flight-delay#staging!#8'\n$/,
  );
  gto = await gtoNow(repo);
  assert.equal(gto.stages.staging, undefined);
  assert.equal(await registry.getStage('flight-delay', 'staging'), null);
  r = await run('demote', 'staging');
  assert.equal(
    r.out,
    'flight-delay staging is already empty; nothing changed\nGTO shows no version in staging: no tag needed\n',
  );

  // Production: GTO and the registry agree on v1; promoting v2 tags it.
  r = await run('promote', '2', 'production', '--reason', 'better', '--json');
  const change = JSON.parse(r.out);
  assert.deepEqual(change.event.tags, ['flight-delay#production#9']);
  assert.match(change.git[0], /^created tag flight-delay#production#9 at /);
  assert.equal((await gtoNow(repo)).stages.production.version, 'v2.0.0');
});

test('registry CLI history in a git checkout: tag names git does not hold (a change made with --git none) are marked', async () => {
  const { repo } = await checkoutWithTags();
  const run = cli(repo);
  let r = await run('promote', '3', 'staging', '--reason', 'tagged');
  assert.equal(r.code, 0, r.errors);
  r = await run('promote', '3', 'production', '--reason', 'untagged', '--git', 'none');
  assert.equal(r.code, 0, r.errors);
  assert.equal(r.out, 'flight-delay production: v1 → v3  (not tagged: --git none)\n');
  assert.deepEqual(
    (await readGitTags(gitIn(repo))).map((t) => t.name).filter((n) => n.includes('production') && n.endsWith('#5')),
    [],
  );

  r = await run('history');
  assert.equal(r.code, 0, r.errors);
  const lines = r.out.trimEnd().split('\n');
  const row = (reason: string) => lines.find((l) => l.includes(` ${reason} `))!;
  assert.match(row('tagged'), /\sflight-delay@v3\.0\.0 flight-delay#staging#4$/);
  assert.match(row('untagged'), /\sflight-delay#production#\d+ \(no such tag\)$/);
  assert.match(lines.at(-1)!, /^\(no such tag\): the registry changed without tagging \(--git none, or npm start/);
  const events = JSON.parse((await run('history', '--json')).out) as { reason: string; missing_tags: string[] }[];
  assert.deepEqual(events.find((e) => e.reason === 'tagged')!.missing_tags, []);
  assert.equal(events.find((e) => e.reason === 'untagged')!.missing_tags.length, 1);

  r = await run('history', '--git', 'none');
  assert.doesNotMatch(r.out, /no such tag/);
  assert.match(r.out, /\ntags: the names GTO gives these events, not checked against git \(--git none\)/);
});

test('registry CLI in a git checkout: a change no tag can record is refused before the registry moves, with the fix', async () => {
  const { repo, registry, git, c3 } = await checkoutWithTags();
  // Bob registers his own v2.0.2 with gto at the commit the registry's v3 came from.
  await git(['tag', '-a', 'flight-delay@v2.0.2', '-m', 'Registering artifact flight-delay version v2.0.2', c3]);
  const tagsBefore = (await git(['tag', '--list'])).split('\n').filter(Boolean).sort();
  const run = cli(repo);
  const r = await run('promote', '3', 'production', '--reason', 'better');
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `refused, nothing changed: commit ${c3.slice(0, 12)} already holds GTO version v2\\.0\\.2 by octocat; a v3\\.0\\.0 there would make every stage tag at that commit ambiguous to GTO \\(it fails with "ManyVersions"\\)\\. If that version is a mistake, delete its tags \\(git tag -d flight-delay@v2\\.0\\.2 && git push origin :refs/tags/flight-delay@v2\\.0\\.2\\) and run this again; or run with --git none`,
    ),
  );
  assert.equal((await registry.getStage('flight-delay', 'production'))?.version, 1, 'the registry did not move');
  assert.deepEqual((await git(['tag', '--list'])).split('\n').filter(Boolean).sort(), tagsBefore, 'no tag created');
  // --git none is the explicit way to change the registry alone.
  assert.equal((await run('promote', '3', 'production', '--reason', 'better', '--git', 'none')).code, 0);
  assert.equal((await registry.getStage('flight-delay', 'production'))?.version, 3);
});

test("registry CLI: someone's GTO v3.0.0 tagged before the registry's v3 was trained is another model: promote and sync-from-tags refuse it", async () => {
  const { repo, registry, git, alice, c3 } = await checkoutWithTags();
  // Alice ran `gto register --bump-major` at her commit, which comes before the one v3 was trained at
  // (instead of her v2.0.1: one commit, one version).
  await git(['tag', '-d', 'flight-delay@v2.0.1']);
  await git(['tag', '-a', 'flight-delay@v3.0.0', '-m', 'Registering artifact flight-delay version v3.0.0', alice]);
  const run = cli(repo);
  let r = await run('show', '3');
  assert.match(r.out, /\ngto +v3\.0\.0 at .*; but GTO's v3\.0\.0 .* is not the registry's v3, trained at /);
  r = await run('promote', '3', 'production', '--reason', 'better');
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `refused, nothing changed: GTO's v3\\.0\\.0 \\(tag flight-delay@v3\\.0\\.0 by octocat on .*, at ${alice.slice(0, 12)}\\) is not the registry's v3, trained at ${c3.slice(0, 12)}: .*two models under one name.*git tag -d flight-delay@v3\\.0\\.0 && git push origin :refs/tags/flight-delay@v3\\.0\\.0`,
    ),
  );
  assert.equal((await registry.getStage('flight-delay', 'production'))?.version, 1);
  // …and when she assigns it, the registry does not follow: the bundle it would serve is not hers.
  await git([
    'tag',
    '-a',
    'flight-delay#production#5',
    '-m',
    'Assigning stage production to artifact flight-delay version v3.0.0',
    alice,
  ]);
  r = await run('sync-from-tags');
  assert.equal(r.code, 1);
  assert.match(
    r.out + r.stderr,
    /refused: production: GTO shows v3\.0\.0 \(tag flight-delay#production#5 by octocat on .*\), but GTO's v3\.0\.0 .* is not the registry's v3/,
  );
  assert.equal((await registry.getStage('flight-delay', 'production'))?.version, 1);
  // Two versions at the commit an assignment points at: GTO itself fails, and so does the sync.
  await git(['tag', '-a', 'flight-delay@v2.0.1', '-m', 'Registering artifact flight-delay version v2.0.1', alice]);
  r = await run('sync-from-tags');
  assert.equal(r.code, 1);
  assert.match(
    r.out + r.stderr,
    /refused: GTO cannot read the tags: flight-delay#production#5: its commit .* holds versions/,
  );
});

test('registry CLI on the served registry (gs://) in a git checkout: the tags are pushed first, the registry moves after', async () => {
  const root = await tempDir('registry-cli-served-');
  const repo = join(root, 'work');
  const origin = join(root, 'origin.git');
  await gitIn(root)(['init', '-q', '--bare', origin]);
  await gitIn(root)(['init', '-q', '-b', 'model', repo]);
  const git = gitIn(repo);
  await git(['config', 'user.name', 'octocat']);
  await git(['config', 'user.email', 'octocat@example.com']);
  await git(['remote', 'add', 'origin', origin]);
  const commits: string[] = [];
  for (const msg of ['results v1', 'results v2']) {
    await git(['commit', '-q', '--allow-empty', '-m', msg]);
    commits.push((await git(['rev-parse', 'HEAD'])).trim());
  }
  const fake = new FakeGcs();
  const gcs = await openRegistry('gs://bucket/reg', { storage: fake, log: memoryLogger(), env: {} });
  for (const [i, commit] of commits.entries())
    await gcs.register('flight-delay', await makeBundle(join(root, `b${i}`), { 'm.json': `{"v":${i}}` }), {
      git_commit: commit,
    });
  const run = cli(repo, { REGISTRY_URL: 'gs://bucket/reg' }, { storage: fake });
  const remoteTags = async () =>
    (await gitIn(root)(['--git-dir', origin, 'tag', '--list'])).split('\n').filter(Boolean).sort();
  const localTags = async () => (await git(['tag', '--list'])).split('\n').filter(Boolean);

  // A push that fails (TAG_REMOTE names no remote) leaves everything as it was.
  const unreachable = cli(repo, { REGISTRY_URL: 'gs://bucket/reg', TAG_REMOTE: 'nowhere' }, { storage: fake });
  let r = await unreachable('promote', '2', 'production', '--reason', 'better', '--force');
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /pushing flight-delay@v2\.0\.0 flight-delay#production#1 to nowhere failed: .*nothing changed \(the registry did not move, and the tags created here were deleted\)/s,
  );
  assert.equal(await gcs.getStage('flight-delay', 'production'), null);
  assert.deepEqual(await localTags(), []);
  r = await run('promote', '2', 'production', '--reason', 'better', '--force');
  assert.equal(r.code, 0, r.errors);
  assert.equal((await gcs.getStage('flight-delay', 'production'))?.version, 2);
  assert.deepEqual(await remoteTags(), ['flight-delay#production#1', 'flight-delay@v2.0.0']);
  assert.match(r.out, /\npushed flight-delay@v2\.0\.0 flight-delay#production#1 to origin\n$/);
});

test('registry CLI: sync-from-tags makes the registry follow GTO, all or nothing, refusing versions it holds no bundle for', async () => {
  const { repo, registry, git, c2, c3, alice } = await checkoutWithTags();
  const run = cli(repo);
  const stages = async () => (await registry.state('flight-delay')).stages;
  let r = await run('sync-from-tags', '--dry-run');
  assert.equal(r.code, 0, r.errors);
  assert.equal(
    r.out,
    'production: v1, as GTO shows it\nwould set staging: v2 → v1  (following flight-delay#staging#3)\ndry run: nothing changed\n',
  );
  assert.deepEqual(await stages(), { production: 1, staging: 2 });

  r = await run('sync-from-tags');
  assert.equal(r.code, 0, r.errors);
  assert.equal(r.out, 'production: v1, as GTO shows it\nstaging: v2 → v1  (following flight-delay#staging#3)\n');
  assert.deepEqual(await stages(), { production: 1, staging: 1 });
  const event = (await registry.history('flight-delay')).at(-1)!;
  assert.deepEqual(
    [event.type, event.source, event.actor, event.reason, event.tags],
    ['promote', 'git-tags', 'octocat', 'following GTO: flight-delay#staging#3', ['flight-delay#staging#3']],
  );
  assert.equal(
    (await run('sync-from-tags')).out.trimEnd().split('\n').at(-1),
    "the registry already follows GTO's tags of flight-delay",
  );
  assert.equal((await run('list')).out.includes('stages disagree'), false, 'list agrees now');

  // Alice puts her tags-only v2.0.1 in production and unassigns v1.0.0 from staging (GTO then
  // shows v2.0.0 there again: its #2 still stands). The registry cannot serve v2.0.1, so nothing
  // follows, not even staging.
  const aliceGit = (iso: string) =>
    gitIn(repo, {
      ...process.env,
      GIT_COMMITTER_NAME: 'Alice',
      GIT_COMMITTER_EMAIL: 'alice@example.com',
      GIT_COMMITTER_DATE: iso,
    });
  const v1commit = (await git(['rev-parse', 'flight-delay@v1.0.0^{commit}'])).trim();
  await aliceGit('2025-04-01T00:00:00Z')([
    'tag',
    '-a',
    'flight-delay#production#4',
    '-m',
    'Assigning stage production …',
    alice,
  ]);
  await aliceGit('2025-04-02T00:00:00Z')(['tag', '-a', 'flight-delay#staging!#5', '-m', 'Unassigning …', v1commit]);
  r = await run('sync-from-tags');
  assert.equal(r.code, 1);
  assert.equal(
    r.out,
    "refused: production: GTO shows v2.0.1 (tag flight-delay#production#4 by Alice on 2025-04-01 00:00:00Z), which is not a registry version (registry version N is GTO's vN.0.0), so the registry holds no bundle for it\n" +
      'nothing changed (it would have: staging: v1 → v2  (following flight-delay#staging#2))\n',
  );
  assert.deepEqual(await stages(), { production: 1, staging: 1 });
  await git(['tag', '-d', 'flight-delay#production#4']);
  // (At a commit of its own: with two versions at one commit GTO cannot tell which one is assigned.)
  await aliceGit('2025-04-03T00:00:00Z')(['tag', '-a', 'flight-delay@v5.0.0', '-m', 'Registering …', c3]);
  await aliceGit('2025-04-03T00:00:01Z')(['tag', '-a', 'flight-delay#production#6', '-m', 'Assigning …', c3]);
  r = await run('sync-from-tags');
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    /^refused: production: GTO shows v5\.0\.0 \(tag flight-delay#production#6 by Alice on .*\), but the registry holds no bundle for v5 \(it has v1, v2, v3\); register that model in the registry first\n/,
  );
  // GTO's v5.0.0 is registry version 5 by name, but the registry has no bundle for it: tags only.
  r = await run('show', '5');
  assert.match(
    r.out,
    /^flight-delay v5\.0\.0 {2}\[production\] {2}\(git tags only: the registry holds no bundle for it\)\n/,
  );
  await git(['tag', '-d', 'flight-delay#production#6', 'flight-delay@v5.0.0']);
  r = await run('sync-from-tags');
  assert.equal(r.code, 0, r.errors);
  assert.equal(r.out, 'production: v1, as GTO shows it\nstaging: v1 → v2  (following flight-delay#staging#2)\n');
  // Unassigned from every version, the stage is cleared.
  await aliceGit('2025-04-03T00:00:02Z')(['tag', '-a', 'flight-delay#staging!#7', '-m', 'Unassigning …', c2]);
  r = await run('sync-from-tags');
  assert.equal(r.code, 0, r.errors);
  assert.equal(r.out, 'production: v1, as GTO shows it\nstaging: v2 → -  (following flight-delay#staging!#7)\n');
  assert.deepEqual(await stages(), { production: 1 });
  assert.equal((await registry.history('flight-delay')).at(-1)!.type, 'demote');

  // Production still only gets a bundle that serves, whoever tagged it.
  await aliceGit('2025-04-04T00:00:00Z')(['tag', '-a', 'flight-delay#production#8', '-m', 'Assigning …', c2]);
  const broken = cli(repo, {}, { checkBundle: () => Promise.resolve('it does not load: boom') });
  r = await broken('sync-from-tags');
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    /^staging: empty, as GTO shows it\nrefused: production: GTO shows v2\.0\.0 \(tag flight-delay#production#8 by Alice .*\), but v2's bundle would not serve: it does not load: boom \(--force follows the tag anyway\)\n/,
  );
  r = await broken('sync-from-tags', '--force');
  assert.equal(r.code, 0, r.errors);
  assert.deepEqual(await stages(), { production: 2 });

  // Outside a checkout, or in one without the model's tags, there is nothing to follow.
  r = await run('sync-from-tags', '--git', 'none');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /sync-from-tags follows GTO's git tags: run it in the repository's checkout/);
  const bare = await tempDir('registry-cli-notags-');
  await gitIn(bare)(['init', '-q']);
  r = await run('sync-from-tags', '--git', bare);
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    /^no GTO tag of flight-delay in .*registry-cli-notags-.*: fetch the tags \(git fetch --tags\) and run this again; nothing changed\n$/,
  );
});

test('registry CLI: verify names stored bundles no version uses (exit 0: space, not damage); gc removes the old ones', async () => {
  const { repo, registry } = await repoWithModel(1);
  const orphan = await registry.backend.storeBundle(
    'flight-delay',
    await makeBundle(join(repo, 'left'), { 'model.json': '{"left":1}' }),
  );
  const run = cli(repo);
  let r = await run('verify');
  assert.equal(r.code, 0, r.errors);
  assert.match(
    r.out,
    new RegExp(`1 stored bundle\\(s\\) no version uses \\(\`registry gc\` removes them\\):\\n  ${orphan.path}`),
  );
  assert.match((await run('gc')).out, /removed 0 unused bundle\(s\)$/m, 'a young one may belong to a running register');
  const old = new Date(Date.now() - 3600_000);
  await utimes(join(repo, 'registry', orphan.path), old, old);
  r = await run('gc');
  assert.equal(r.code, 0, r.errors);
  assert.match(r.out, new RegExp(`removed 1 unused bundle\\(s\\)\\n  ${orphan.path}`));
  assert.doesNotMatch((await run('verify')).out, /no version uses/);
});

test('registry CLI: GTO registers a version at the commit whose dvc.lock records its bundle, not at the one it started from', async () => {
  const { repo, git } = await gitRepoOnMain('registry-cli-results-');
  const registry = await openRegistry('registry', { baseDir: repo, log: memoryLogger(), env: {} });
  const bundle = await makeBundle(join(repo, 'bundle'), { 'model.json': '{"w":1}' });
  const commit = async (msg: string, lock: string) => {
    await writeFile(join(repo, 'dvc.lock'), lock);
    await git(['add', 'dvc.yaml', 'dvc.lock']);
    await git(['commit', '-q', '-m', msg]);
    return (await git(['rev-parse', 'HEAD'])).trim();
  };
  await writeFile(
    join(repo, 'dvc.yaml'),
    'stages: {}\nartifacts:\n  flight-delay:\n    path: artifacts/model\n    type: model\n',
  );
  // The clone's last commit records the model someone else trained; this run trained another.
  const start = await commit('their results', lockWith('0123456789abcdef0123456789abcdef.dir'));
  const v1 = await registry.register(
    'flight-delay',
    bundle,
    { git_commit: start },
    { actor: 'me', source: 'pipeline' },
  );
  const run = cli(repo);

  let r = await run('promote', '1', 'production', '--reason', 'first');
  assert.equal(r.code, 1);
  assert.match(r.errors, /whose dvc\.lock records another model .*Commit the run's results first/);
  assert.equal((await registry.state('flight-delay')).stages.production, undefined);
  assert.deepEqual(await readGitTags(git), []);

  const results = await commit('my results', lockWith(v1.bundle.md5));
  r = await run('promote', '1', 'production', '--reason', 'first');
  assert.equal(r.code, 0, r.errors);
  const gto = gtoArtifactState(await readGitTags(git), 'flight-delay');
  assert.equal(gto.stages.production.version, 'v1.0.0');
  assert.equal(gto.versions.find((x) => x.version === 'v1.0.0')?.commit, results);
});

test('registry CLI list: a stage the registry moved alone (npm start) is not a disagreement; it names the way to its tag', async () => {
  const { repo } = await repoWithModel(1);
  const git = gitIn(repo);
  await git(['init', '-q', '-b', 'main']);
  const run = cli(repo);
  assert.equal((await run('promote', '1', 'production', '--reason', 'first', '--git', 'none')).code, 0);
  const r = await run('list');
  assert.equal(r.out.includes('stages disagree'), false, r.out);
  assert.match(
    r.out,
    /\nnot tagged in git yet \(the registry moved alone, as npm start does\):\n {2}production v1: commit its results \(dvc\.lock, data\.dvc, metrics\), then `npm run registry -- promote 1 production` tags it \(a trainer Job's version: `npm run registry -- import-run 1` first; a clone without tags: git fetch --tags\); until then sync-from-tags would move production back to what the tags say\n/,
  );
});

test('registry CLI: a version the trainer Job trained (no commit records its results) is refused a GTO tag, naming the way to serve it', async () => {
  const { repo, git } = await gitRepoOnMain('registry-cli-job-');
  await writeFile(
    join(repo, 'dvc.yaml'),
    'stages: {}\nartifacts:\n  flight-delay:\n    path: artifacts/model\n    type: model\n',
  );
  await writeFile(
    join(repo, 'dvc.lock'),
    "schema: '2.0'\nstages:\n  train:\n    cmd: node train.ts\n    outs:\n    - path: artifacts/model\n      hash: md5\n      md5: 0123456789abcdef0123456789abcdef.dir\n",
  );
  await git(['add', 'dvc.yaml', 'dvc.lock']);
  await git(['commit', '-q', '-m', 'CI results']);
  const source = (await git(['rev-parse', 'HEAD'])).trim();
  // The registry lives in the bucket; the Job's pod is gone with its dvc.lock.
  const registry = await openRegistry('registry', { baseDir: repo, log: memoryLogger(), env: {} });
  const bundle = await makeBundle(join(repo, 'bundle'), { 'model.json': '{"job":1}' });
  await registry.register('flight-delay', bundle, { git_commit: null }, { actor: 'job', source: 'pipeline' });
  await registry.register('flight-delay', bundle, { git_commit: source }, { actor: 'job', source: 'pipeline' });
  const run = cli(repo);

  for (const version of ['1', '2']) {
    const r = await run('promote', version, 'production', '--reason', 'full-data run');
    assert.equal(r.code, 1);
    assert.match(r.errors, /trainer Job trained gets that commit .*import-run <N>.*--git none.*registry-sync\.yml/);
    assert.doesNotMatch(
      r.errors,
      /tag the commit that produced it/,
      'no commit produced it: a tag there names another model',
    );
  }
  assert.deepEqual(await readGitTags(git), []);
  assert.equal((await registry.state('flight-delay')).stages.production, undefined);

  const r = await run('promote', '2', 'production', '--reason', 'full-data run', '--git', 'none');
  assert.equal(r.code, 0, r.errors);
  assert.equal((await registry.state('flight-delay')).stages.production, 2);
  assert.deepEqual(await readGitTags(git), []);
});

test("registry CLI: put-run stores a run's results beside its version; import-run writes them into a checkout (refusing a dirty dvc.lock); promote tags that commit", async () => {
  const { repo, git } = await gitRepoOnMain('registry-cli-import-');
  const bucket = join(await tempDir('registry-cli-bucket-'), 'registry');
  const write = async (root: string, files: Record<string, string | Buffer>) => {
    for (const [path, data] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), data);
    }
  };
  await write(repo, {
    'dvc.yaml':
      'stages:\n  report:\n    cmd: node report.ts\n    outs:\n    - metrics/report:\n        cache: false\n    metrics:\n    - metrics/evaluate.json:\n        cache: false\n' +
      'artifacts:\n  flight-delay:\n    path: artifacts/model\n    type: model\n',
    'dvc.lock': lockWith('0123456789abcdef0123456789abcdef.dir'),
    'params.yaml': 'ingest:\n  max_batches: 10\n',
    'data.dvc': 'outs:\n- md5: aaaa.dir\n  path: data\n',
    'metrics/evaluate.json': '{"roc_auc": 0.7}\n',
    'metrics/report/old.png': 'a chart the new run does not draw',
    'metrics/README.md': 'not an output: left alone\n',
  });
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'CI results']);
  const source = (await git(['rev-parse', 'HEAD'])).trim();

  // The Job's pod: the image's files (no .git), then what its run wrote.
  const pod = await tempDir('registry-cli-pod-');
  for (const f of ['dvc.yaml', 'dvc.lock', 'params.yaml', 'data.dvc', 'metrics'])
    await cp(join(repo, f), join(pod, f), { recursive: true });
  await rm(join(pod, 'metrics', 'report'), { recursive: true });
  const registry = await openRegistry(bucket, { log: memoryLogger(), env: {} });
  const v1 = await registry.register(
    'flight-delay',
    await makeBundle(join(pod, 'artifacts', 'model'), { 'model.json': '{"job":1}' }),
    { git_commit: source },
    { actor: 'flight-delay-trainer', source: 'pipeline' },
  );
  const chart = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xfe]);
  await write(pod, {
    'dvc.lock': lockWith(v1.bundle.md5),
    'params.yaml': 'ingest:\n  max_batches: 0\n',
    'data.dvc': 'outs:\n- md5: bbbb.dir\n  size: 4096\n  nfiles: 3\n  path: data\n',
    'metrics/evaluate.json': '{"roc_auc": 0.78}\n',
    'metrics/report/roc.png': chart,
  });
  const env = { REGISTRY_URL: bucket };
  let r = await cli(pod, env)('put-run', '1');
  assert.equal(r.code, 0, r.errors);
  assert.match(r.out, /^flight-delay v1: stored the run's 5 result files .* in .*runs\/flight-delay\/v1\.json\n/);

  const run = cli(repo, env);
  assert.match((await run('import-run', '2')).errors, /model 'flight-delay' has no version 2/);
  await writeFile(join(repo, 'dvc.lock'), lockWith('fedcba9876543210fedcba9876543210.dir'));
  r = await run('import-run', '1');
  assert.equal(r.code, 1);
  assert.match(r.errors, /refusing to import: dvc\.lock has uncommitted changes .*Nothing was written/);
  assert.equal(await readFile(join(repo, 'metrics/evaluate.json'), 'utf8'), '{"roc_auc": 0.7}\n');
  await git(['checkout', '--', 'dvc.lock']);

  r = await run('import-run', '1');
  assert.equal(r.code, 0, r.errors);
  for (const f of ['dvc.lock', 'params.yaml', 'data.dvc', 'metrics/evaluate.json', 'metrics/report/roc.png'])
    assert.deepEqual(await readFile(join(repo, f)), await readFile(join(pod, f)), f);
  assert.equal(await readFile(join(repo, 'metrics/README.md'), 'utf8'), 'not an output: left alone\n');
  await assert.rejects(readFile(join(repo, 'metrics/report/old.png')), /ENOENT/);
  assert.match(r.out, /removed 1 the run did not produce \(metrics\/report\/old\.png\)/);
  assert.match(r.out, /\nparams\.yaml changed: these are the params the run used/);
  assert.match(r.out, /\ndata\.dvc changed: the raw store is now the run's \(3 files, 4096 bytes\)/);
  const add = /\n {2}(git add .*) && git commit/.exec(r.out)?.[1];
  assert.equal(add, 'git add dvc.lock data.dvc params.yaml metrics');
  // Before the commit, promote still refuses: no commit records v1's bundle yet.
  assert.equal((await run('promote', '1', 'production', '--reason', 'full-data run')).code, 1);
  await git(['add', 'dvc.lock', 'data.dvc', 'params.yaml', 'metrics']);
  await git(['commit', '-q', '-m', 'flight-delay v1: results of its run']);
  const results = (await git(['rev-parse', 'HEAD'])).trim();

  r = await run('promote', '1', 'production', '--reason', 'full-data run');
  assert.equal(r.code, 0, r.errors);
  const gto = gtoArtifactState(await readGitTags(git), 'flight-delay');
  assert.equal(gto.stages.production.version, 'v1.0.0');
  assert.equal(gto.versions.find((x) => x.version === 'v1.0.0')?.commit, results);
  assert.equal((await registry.state('flight-delay')).stages.production, 1);
});

test('registry CLI: put-run refuses results whose dvc.lock does not record the version; import-run refuses a checkout without its commit', async () => {
  const { repo, git } = await gitRepoOnMain('registry-cli-import-');
  const bucket = join(await tempDir('registry-cli-bucket-'), 'registry');
  await writeFile(join(repo, 'dvc.yaml'), 'stages: {}\nartifacts:\n  flight-delay:\n    path: artifacts/model\n');
  await writeFile(join(repo, 'dvc.lock'), lockWith('0123456789abcdef0123456789abcdef.dir'));
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'base']);
  const registry = await openRegistry(bucket, { log: memoryLogger(), env: {} });
  const bundle = await makeBundle(join(repo, 'bundle'), { 'model.json': '{"job":2}' });
  const v1 = await registry.register('flight-delay', bundle, { git_commit: 'f'.repeat(40) }, { actor: 'job' });
  const run = cli(repo, { REGISTRY_URL: bucket });
  let r = await run('put-run', '1');
  assert.equal(r.code, 1);
  assert.match(r.out, /stored nothing: this run's dvc\.lock records bundle 0123456789abcdef0123456789abcdef\.dir/);
  await writeFile(join(repo, 'dvc.lock'), lockWith(v1.bundle.md5));
  assert.equal((await run('put-run', '1')).code, 0);
  await git(['checkout', '--', 'dvc.lock']);
  r = await run('import-run', '1');
  assert.equal(r.code, 1);
  assert.match(r.errors, /trained from commit f{40}, which this repository does not have: git fetch it/);
  assert.equal(await readFile(join(repo, 'dvc.lock'), 'utf8'), lockWith('0123456789abcdef0123456789abcdef.dir'));
});

test('registry CLI: a version that names no commit (image built without SOURCE_COMMIT) is tagged at the first commit whose dvc.lock records it', async () => {
  const { repo, git } = await gitRepoOnMain('registry-cli-nocommit-');
  await writeFile(join(repo, 'dvc.yaml'), 'stages: {}\nartifacts:\n  flight-delay:\n    path: artifacts/model\n');
  await writeFile(join(repo, 'dvc.lock'), lockWith('0123456789abcdef0123456789abcdef.dir'));
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'base']);
  const registry = await openRegistry('registry', { baseDir: repo, log: memoryLogger(), env: {} });
  const bundle = await makeBundle(join(repo, 'bundle'), { 'model.json': '{"job":3}' });
  const v1 = await registry.register('flight-delay', bundle, { git_commit: null }, { actor: 'job' });
  const run = cli(repo);
  let r = await run('promote', '1', 'production', '--reason', 'x');
  assert.equal(r.code, 1);
  assert.match(r.errors, /names no commit .*no commit in HEAD's history has a dvc\.lock that records its bundle/);
  await writeFile(join(repo, 'dvc.lock'), lockWith(v1.bundle.md5));
  await git(['commit', '-q', '-am', 'imported results']);
  const results = (await git(['rev-parse', 'HEAD'])).trim();
  await git(['commit', '-q', '--allow-empty', '-m', 'later work']);
  r = await run('promote', '1', 'production', '--reason', 'x');
  assert.equal(r.code, 0, r.errors);
  assert.equal((await gtoNow(repo)).versions.find((x) => x.version === 'v1.0.0')?.commit, results);
});

test('registry CLI: put-run and import-run through a gs:// registry (the bucket the Job writes)', async () => {
  const { repo, git } = await gitRepoOnMain('registry-cli-import-gs-');
  await writeFile(join(repo, 'dvc.yaml'), 'stages: {}\nartifacts:\n  flight-delay:\n    path: artifacts/model\n');
  await writeFile(join(repo, 'dvc.lock'), lockWith('0123456789abcdef0123456789abcdef.dir'));
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'base']);
  const storage = new FakeGcs();
  const registry = await openRegistry('gs://bkt/registry', { storage, log: memoryLogger(), env: {} });
  const bundle = await makeBundle(join(await tempDir('registry-cli-b-'), 'b'), { 'model.json': '{"gs":1}' });
  const source = (await git(['rev-parse', 'HEAD'])).trim();
  const v1 = await registry.register('flight-delay', bundle, { git_commit: source }, { actor: 'job' });
  const pod = await tempDir('registry-cli-pod-');
  await writeFile(join(pod, 'dvc.yaml'), await readFile(join(repo, 'dvc.yaml')));
  await writeFile(join(pod, 'dvc.lock'), lockWith(v1.bundle.md5));
  const env = { REGISTRY_URL: 'gs://bkt/registry' };
  assert.equal((await cli(pod, env, { storage })('put-run', '1')).code, 0);
  assert.ok(storage.objects.has('bkt/registry/runs/flight-delay/v1.json'), [...storage.objects.keys()].join(', '));
  const r = await cli(repo, env, { storage })('import-run', '1');
  assert.equal(r.code, 0, r.errors);
  assert.equal(await readFile(join(repo, 'dvc.lock'), 'utf8'), lockWith(v1.bundle.md5));
  assert.match(r.out, /\nchanged: dvc\.lock\n/);
});

test('list: the test-set note only when two versions say they were measured on different data', async () => {
  const { formatVersionList } = await import('./format.ts');
  const v = (version: number, data_md5: string | null, rows?: number) =>
    ({
      model: 'm',
      version,
      stages: [],
      archived: false,
      latest: false,
      created_at: null,
      registered_at: '2025-03-01T12:00:00Z',
      registered_by: 'ci',
      metrics: { test: { rmse: 1 + version } },
      extra: rows === undefined ? {} : { rows_test: rows },
      data_md5,
    }) as unknown as Parameters<typeof formatVersionList>[2][number];
  const note = /comes from \d+ different test sets/;
  const same = formatVersionList('m', 'r', [v(1, 'a1b2c3d4e5.dir', 50), v(2, 'a1b2c3d4e5.dir', 50)]);
  assert.doesNotMatch(same, note);
  assert.match(same, /50 \(a1b2c3d4\)/);
  assert.doesNotMatch(
    formatVersionList('m', 'r', [v(1, null), v(2, 'a1b2c3d4e5.dir', 50)]),
    note,
    'unknown is not another set',
  );
  assert.match(
    formatVersionList('m', 'r', [v(1, 'a1b2c3d4e5.dir', 50), v(2, 'ffff0000.dir', 90)]),
    /the test\.rmse column comes from 2 different test sets/,
  );
});
