/**
 * Realistic workflow mistakes, each put into a COPY of the shipped workflows and rehearsed with the
 * cheapest scenario that exhibits it: the rehearsal must fail, naming the problem. What each one
 * is caught by: GitHub's permission model (a job's GITHUB_TOKEN scopes on the API, on git push, on
 * checkout of the private repository, on another run's artifacts), the runner's shells (no
 * pipefail by default), runs-on labels, concurrency groups, dispatch-input validation, distinct
 * commits per branch, the runner's environment (nothing leaks from this shell: GCS_BUCKET and
 * GH_TOKEN are exported here on purpose), references GitHub evaluates to '' (needs/steps/inputs),
 * and the effects each scenario must leave (jobs run, comments, tags, images, rollouts).
 *
 * A mistake the rehearsal cannot catch stays in the list with `missed` (the reason); every other
 * one must be caught, and the caught share must be at least 90 %. Bounded: npm test and the
 * pipeline are recorded (REHEARSE_NPM_RECORD), so is `dvc push` (REHEARSE_RECORD), deploys serve a
 * small seeded model, and two rehearsals run at a time. `MISTAKES=id,id` runs only those.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registryWithVersions } from '../testing/api/support.ts';
import { rehearse } from './index.ts';

const REPO = join(import.meta.dirname, '..', '..');
const WORKFLOWS = join(REPO, '.github', 'workflows');
// The registry sync follows tags of a pipeline that did not run here (nothing registered): recorded too.
const NPM_RECORD = 'test$|run pipeline(:start)?$|run ingest|run registry';
const RECORD = 'dvc push';

interface Mistake {
  id: string;
  /** What someone changed, and what GitHub does with it. */
  what: string;
  file: string;
  edit: (source: string) => string;
  scenario: [workflow: string, event: string];
  /** The failure must match this (it names the problem). */
  expect: RegExp;
  /** Why the rehearsal cannot catch it (then it is expected to pass). */
  missed?: string;
}

/** `from` → `to`, where `from` occurs exactly once (in `within`, a job's section, when given). */
function swap(from: string | RegExp, to: string, within?: string): (s: string) => string {
  return (s) => {
    const [start, end] = within ? jobSection(s, within) : [0, s.length];
    const part = s.slice(start, end);
    const count =
      typeof from === 'string' ? part.split(from).length - 1 : (part.match(new RegExp(from, 'g')) ?? []).length;
    assert.equal(count, 1, `${String(from)} occurs ${count} times${within ? ` in job ${within}` : ''}`);
    return s.slice(0, start) + part.replace(from, to) + s.slice(end);
  };
}
const drop = (line: string | RegExp, within?: string) => swap(line, '', within);
const both =
  (...edits: ((s: string) => string)[]) =>
  (s: string) =>
    edits.reduce((x, e) => e(x), s);

/** [start, end) of `  <job>:` up to the next job (or the end). */
function jobSection(s: string, job: string): [number, number] {
  const start = s.indexOf(`\n  ${job}:\n`);
  assert.ok(start >= 0, `no job ${job}`);
  const next = /\n {2}[\w-]+:\n/g;
  next.lastIndex = start + 1;
  const m = next.exec(s);
  return [start, m ? m.index : s.length];
}

export const MISTAKES: Mistake[] = [
  // GITHUB_TOKEN permissions
  {
    id: 'publish-contents-read',
    what: 'train.yml publish job: contents: read instead of write (the tag push and the commit comment need write)',
    file: 'train.yml',
    edit: swap('      contents: write # push', '      contents: read # push'),
    scenario: ['train', 'workflow_dispatch'],
    expect: /job publish: step "Tag registry changes.*(denied to github-actions|needs permissions: contents: write)/,
  },
  {
    id: 'pr-comment-pull-requests-read',
    what: 'pr-comment.yml: pull-requests: read instead of write (GitHub answers 403, publish-report swallows it as read-only)',
    file: 'pr-comment.yml',
    edit: swap('      pull-requests: write # the sticky comment', '      pull-requests: read # the sticky comment'),
    scenario: ['pr-comment', 'workflow_run'],
    expect:
      /expected effect missing: one comment .*POST \/repos\/acme\/gitops-ml\/issues\/42\/comments .*needs issues: write or pull-requests: write/,
  },
  {
    id: 'pr-comment-pull-requests-dropped',
    what: 'pr-comment.yml: the pull-requests scope dropped (gh api pulls/N needs pull-requests: read)',
    file: 'pr-comment.yml',
    edit: drop('      pull-requests: write # the sticky comment\n'),
    scenario: ['pr-comment', 'workflow_run'],
    expect:
      /job comment: step "Check the PR number.*GET \/repos\/acme\/gitops-ml\/pulls\/42 → 403.*needs pull-requests: read/,
  },
  {
    id: 'pr-comment-actions-read-dropped',
    what: "pr-comment.yml: actions: read dropped (download-artifact from the PR report's run needs it)",
    file: 'pr-comment.yml',
    edit: drop('      actions: read # download the artifact of the triggering run\n'),
    scenario: ['pr-comment', 'workflow_run'],
    expect: /download-artifact.*Resource not accessible by integration.*actions: read/,
  },
  {
    id: 'infra-plan-pull-requests-dropped',
    what: 'infra.yml plan job: pull-requests: write dropped (the sticky plan comment)',
    file: 'infra.yml',
    edit: drop('      pull-requests: write # the sticky plan comment\n'),
    scenario: ['infra', 'pull_request'],
    expect:
      /job plan: step "Sticky plan comment".*issues\/42\/comments → 403.*needs issues: read or pull-requests: read/,
  },
  {
    id: 'trainer-image-contents-forgotten',
    what: 'trainer-image.yml: the job lists only id-token: write (every scope it does not list is none: no contents: read to clone)',
    file: 'trainer-image.yml',
    edit: drop('      contents: read\n', 'build'),
    scenario: ['trainer-image', 'push'],
    expect: /Run actions\/checkout".*Repository not found.*no contents: read/,
  },
  {
    id: 'trainer-image-id-token-dropped',
    what: 'trainer-image.yml: id-token: write dropped (no OIDC token for Workload Identity Federation)',
    file: 'trainer-image.yml',
    edit: drop(/ {6}id-token: write #[^\n]*\n/, 'build'),
    scenario: ['trainer-image', 'workflow_dispatch'],
    expect: /google-github-actions\/auth.*id-token: write/,
  },
  {
    id: 'publish-persist-credentials-false',
    what: 'train.yml publish job: persist-credentials: false copied from the other jobs (the private repository refuses the later ls-remote and push)',
    file: 'train.yml',
    edit: swap(
      '          fetch-depth: 0 # every tag: gh:tag applies GTO',
      '          persist-credentials: false\n          fetch-depth: 0 # every tag: gh:tag applies GTO',
    ),
    scenario: ['train', 'workflow_dispatch'],
    expect: /job publish: step "Tag registry changes.*(fetch|push)-refused-.*no-persisted-credentials/,
  },
  // The runner's shells
  {
    id: 'deploy-pipefail-dropped',
    what: 'deploy-api.yml: `set -euo pipefail` dropped from the deploy step, whose `npm run deploy … | tee` then passes when the deploy fails',
    file: 'deploy-api.yml',
    edit: drop('          set -euo pipefail\n'),
    scenario: ['deploy-api', 'push'],
    expect: /job deploy step \d+ \(Deploy.*\| tee.*no pipefail/,
  },
  {
    id: 'train-tee-pipeline',
    what: 'train.yml: `npm run pipeline | tee pipeline.log` (default shell bash -e: a failing pipeline passes green)',
    file: 'train.yml',
    edit: swap('            npm run pipeline\n', '            npm run pipeline | tee "$RUNNER_TEMP/pipeline.log"\n'),
    scenario: ['train', 'workflow_dispatch'],
    expect: /job train step \d+ \(Ingest and run the pipeline.*no pipefail/,
  },
  {
    id: 'train-defaults-shell-sh',
    what: 'train.yml: `defaults: run: shell: sh` (the ingest step uses bash [[ =~ ]])',
    file: 'train.yml',
    edit: swap('\nenv:\n  # Training lives', '\ndefaults:\n  run:\n    shell: sh\n\nenv:\n  # Training lives'),
    scenario: ['train', 'workflow_dispatch'],
    expect: /job train: step "Ingest and run the pipeline.*Syntax error: "\(" unexpected/,
  },
  // runs-on
  {
    id: 'ci-runs-on-typo',
    what: 'ci.yml: runs-on: ubuntu-24.04-latest (no such label: queued forever)',
    file: 'ci.yml',
    edit: swap('    runs-on: ubuntu-24.04', '    runs-on: ubuntu-24.04-latest'),
    scenario: ['ci', 'push'],
    expect: /job test: runs-on "ubuntu-24.04-latest": no runner has the label ubuntu-24.04-latest/,
  },
  {
    id: 'train-runs-on-self-hosted-gpu',
    what: 'train.yml train job: runs-on: [self-hosted, gpu] (the repository has no such runner)',
    file: 'train.yml',
    edit: swap('    runs-on: ubuntu-24.04', '    runs-on: [self-hosted, gpu]', 'train'),
    scenario: ['train', 'workflow_dispatch'],
    expect: /job train: runs-on \["self-hosted","gpu"\]: no runner has the labels self-hosted, gpu/,
  },
  {
    id: 'trainer-image-retired-runner',
    what: 'trainer-image.yml: runs-on: ubuntu-20.04 (retired image)',
    file: 'trainer-image.yml',
    edit: swap('    runs-on: ubuntu-24.04', '    runs-on: ubuntu-20.04'),
    scenario: ['trainer-image', 'push'],
    expect: /ubuntu-20.04 is a retired GitHub-hosted image/,
  },
  // concurrency
  {
    id: 'ci-concurrency-constant',
    what: 'ci.yml: concurrency.group: ci (every PR shares one group: one PR cancels another)',
    file: 'ci.yml',
    edit: swap('  group: ci-${{ github.event.pull_request.number || github.ref }}', '  group: ci'),
    scenario: ['ci', 'pull_request'],
    expect: /concurrency group "ci" is the same for every pull request/,
  },
  {
    id: 'pr-report-concurrency-base-ref',
    what: 'pr-report.yml: the group keyed on the base branch (every PR into model shares it)',
    file: 'pr-report.yml',
    edit: swap(
      '  group: pr-report-${{ github.event.pull_request.number }}',
      '  group: pr-report-${{ github.base_ref }}',
    ),
    scenario: ['pr-comment', 'workflow_run'],
    expect: /concurrency group "pr-report-model" is the same for every pull request/,
  },
  {
    id: 'trainer-image-concurrency-from-a-pr-workflow',
    what: 'trainer-image.yml: a group copied from a PR workflow (empty on push)',
    file: 'trainer-image.yml',
    edit: swap('  group: trainer-image-${{ github.ref }}', '  group: ${{ github.event.pull_request.number }}'),
    scenario: ['trainer-image', 'push'],
    expect: /evaluates to an empty string on push/,
  },
  {
    id: 'train-cancel-in-progress',
    what: 'train.yml: cancel-in-progress: true (a cancelled run leaves the DVC remote ahead of dvc.lock)',
    file: 'train.yml',
    edit: swap('  cancel-in-progress: false', '  cancel-in-progress: true'),
    scenario: ['train', 'workflow_dispatch'],
    expect: /expected effect missing: a second train.yml run queues.*cancel-in-progress: true/,
  },
  {
    id: 'infra-cancel-in-progress',
    what: 'infra.yml: cancel-in-progress: true (a cancelled terraform apply keeps the state lock)',
    file: 'infra.yml',
    edit: swap('  cancel-in-progress: false', '  cancel-in-progress: true'),
    scenario: ['infra', 'push'],
    expect: /expected effect missing: a second infra.yml run queues.*cancel-in-progress: true/,
  },
  // workflow_dispatch inputs
  {
    id: 'train-input-renamed',
    what: 'train.yml: input max_batches renamed to batches (dispatches with max_batches are refused)',
    file: 'train.yml',
    edit: both(swap('      max_batches:\n', '      batches:\n'), swap('inputs.max_batches', 'inputs.batches')),
    scenario: ['train', 'workflow_dispatch'],
    expect: /Unexpected inputs provided: \["max_batches"\]/,
  },
  {
    id: 'train-input-choice',
    what: "train.yml: max_batches made a choice of 'all', '10', '100' (a dispatch of 1 is refused)",
    file: 'train.yml',
    edit: swap('        type: string', "        type: choice\n        options: ['all', '10', '100']"),
    scenario: ['train', 'workflow_dispatch'],
    expect: /Provided value '1' for input 'max_batches' not in the list of allowed values/,
  },
  {
    id: 'train-input-typo',
    what: "train.yml: inputs.max_batch (typo: evaluates to '', the run trains on everything)",
    file: 'train.yml',
    edit: swap('inputs.max_batches', 'inputs.max_batch'),
    scenario: ['train', 'workflow_dispatch'],
    expect: /inputs.max_batch is not an input of on.workflow_dispatch/,
  },
  // branches
  {
    id: 'pr-report-fetch-depth-dropped',
    what: 'pr-report.yml: fetch-depth: 0 dropped (no origin/<base> to read the base metrics from: a report without a diff, green)',
    file: 'pr-report.yml',
    edit: drop(/ {10}fetch-depth: 0[^\n]*\n/),
    scenario: ['pr-comment', 'workflow_run'],
    expect:
      /expected effect missing: one comment .*comparing with the base branch's metrics: the comment on acme\/gitops-ml#42 says "_No metrics on/,
  },
  {
    id: 'train-checkout-default-branch',
    what: 'train.yml train job: `ref: ${{ env.TRAIN_BRANCH }}` dropped (a dispatch from main trains main)',
    file: 'train.yml',
    edit: drop('          ref: ${{ env.TRAIN_BRANCH }}\n'),
    scenario: ['train', 'workflow_dispatch'],
    expect: /expected effect missing: tags .* which is not on model/,
  },
  {
    id: 'deploy-build-checkout-main',
    what: 'deploy-api.yml build job checks out main (ref: main) instead of the pushed api commit',
    file: 'deploy-api.yml',
    edit: swap(
      '          persist-credentials: false\n',
      '          persist-credentials: false\n          ref: main\n',
      'build',
    ),
    scenario: ['deploy-api', 'push'],
    expect: /expected effect missing: image …\/api pushed.*was built from [0-9a-f]{8}, not from/,
  },
  // the runner's environment
  {
    id: 'train-gcs-bucket-env-dropped',
    what: 'train.yml: GCS_BUCKET dropped from the train job env (exported in this shell, which must not leak)',
    file: 'train.yml',
    edit: drop('      GCS_BUCKET: ${{ vars.GCS_BUCKET }}\n'),
    scenario: ['train', 'workflow_dispatch'],
    expect: /repository variable GCS_BUCKET is not set/,
  },
  {
    id: 'pr-comment-gh-token-dropped',
    what: 'pr-comment.yml: GH_TOKEN not passed to the gh step (exported in this shell, which must not leak)',
    file: 'pr-comment.yml',
    edit: drop('        env:\n          GH_TOKEN: ${{ github.token }}\n'),
    scenario: ['pr-comment', 'workflow_run'],
    expect: /Check the PR number.*set the GH_TOKEN environment variable/,
  },
  // references GitHub evaluates to ''
  {
    id: 'deploy-needs-output-typo',
    what: "deploy-api.yml: needs.build.outputs.img (typo: '', the deploy gets no image)",
    file: 'deploy-api.yml',
    edit: swap('needs.build.outputs.image', 'needs.build.outputs.img'),
    scenario: ['deploy-api', 'push'],
    expect: /needs.build.outputs.img: job build has no output "img"/,
  },
  {
    id: 'train-step-output-typo',
    what: 'train.yml: job output from steps.head.outputs.commit (the step writes sha)',
    file: 'train.yml',
    edit: swap('steps.head.outputs.sha', 'steps.head.outputs.commit'),
    scenario: ['train', 'workflow_dispatch'],
    expect: /steps.head.outputs.commit: step .* never writes "commit" to GITHUB_OUTPUT/,
  },
  {
    id: 'publish-needs-dropped',
    what: 'train.yml: `needs: train` dropped from publish (it reads needs.train.outputs.sha)',
    file: 'train.yml',
    edit: drop('    needs: train\n'),
    scenario: ['train', 'workflow_dispatch'],
    expect: /needs.train.outputs.sha, but job publish does not need train/,
  },
  // if: and effects
  {
    id: 'infra-plan-if-typo',
    what: "infra.yml plan job: if: github.event_name == 'pull-request' (never true: no plan, green)",
    file: 'infra.yml',
    edit: swap("    if: github.event_name == 'pull_request'", "    if: github.event_name == 'pull-request'"),
    scenario: ['infra', 'pull_request'],
    expect: /expected effect missing: jobs plan of infra.yml run and succeed: job plan of run \d+ was skipped/,
  },
  {
    id: 'pr-comment-post-if-inverted',
    what: "pr-comment.yml: the post step's if: inverted (posts only stale reports)",
    file: 'pr-comment.yml',
    edit: swap("        if: steps.pr.outputs.stale != 'true'", "        if: steps.pr.outputs.stale == 'true'"),
    scenario: ['pr-comment', 'workflow_run'],
    expect: /expected effect missing: one comment by github-actions\[bot\].*has 0 such comments/,
  },
  {
    id: 'train-publish-dry-run',
    what: "train.yml: REPORT_DRY_RUN: '1' copied into the publish job's report step (nothing posted, green)",
    file: 'train.yml',
    edit: swap(
      '          REPORT_SHA: ${{ steps.commit.outputs.sha }}\n',
      "          REPORT_SHA: ${{ steps.commit.outputs.sha }}\n          REPORT_DRY_RUN: '1'\n",
    ),
    scenario: ['train', 'workflow_dispatch'],
    expect: /expected effect missing: a commit comment by github-actions\[bot\].*no commit comment was posted/,
  },
  {
    id: 'train-dvc-push-dropped',
    what: 'train.yml: the `dvc push` step deleted (the results commit records data and a model nobody can pull)',
    file: 'train.yml',
    edit: swap('      - name: dvc push\n        run: dvc push\n', ''),
    scenario: ['train', 'workflow_dispatch'],
    expect:
      /expected effect missing: the DVC remote holds the data and outputs the results commit on model records: (.*lacks|no `dvc push` ran)/,
  },
  // What the rehearsal cannot see
  {
    id: 'deploy-secret-typo',
    what: "deploy-api.yml: secrets.API_SMOKE_TOKN (typo: '', the smoke /predict goes unauthenticated)",
    file: 'deploy-api.yml',
    edit: swap('secrets.API_SMOKE_TOKEN', 'secrets.API_SMOKE_TOKN'),
    scenario: ['deploy-api', 'push'],
    expect: /API_SMOKE_TOKN/,
    missed:
      'the rehearsal has no secret values: the configured API_SMOKE_TOKEN is an empty stand-in, so a misspelt name reads the same empty string (and an unset secret is legal)',
  },
  {
    id: 'train-timeout-too-short',
    what: 'train.yml: timeout-minutes: 5 on the train job (a full retrain takes longer on a hosted runner)',
    file: 'train.yml',
    edit: swap('    timeout-minutes: 120', '    timeout-minutes: 5'),
    scenario: ['train', 'workflow_dispatch'],
    expect: /timeout/,
    missed:
      "durations are not modelled: this scenario records the pipeline, and the full train rehearsal trains one batch in under a minute on this machine, not the hosted runner's time for all data",
  },
  {
    id: 'deploy-build-arm-runner',
    what: 'deploy-api.yml build job: runs-on: ubuntu-24.04-arm (an arm64 image for amd64 GKE nodes)',
    file: 'deploy-api.yml',
    edit: swap('    runs-on: ubuntu-24.04', '    runs-on: ubuntu-24.04-arm', 'build'),
    scenario: ['deploy-api', 'push'],
    expect: /arm64|exec format|no matching manifest/,
    missed:
      'image architectures are not modelled: the docker and kubectl stand-ins do not know that an image built on an arm64 runner does not start on amd64 nodes',
  },
];

const only = process.env.MISTAKES?.split(',').filter(Boolean);
const selected = only ? MISTAKES.filter((m) => only.includes(m.id)) : MISTAKES;
const temps: string[] = [];
const outcomes: { m: Mistake; caught: boolean; failure: string; seconds: number }[] = [];
let seed: Promise<string> | undefined;
// A developer's shell with what a step must NOT see (steps get the runner's environment only).
process.env.GCS_BUCKET = 'developer-bucket';
process.env.GH_TOKEN = 'gho_developer_token';

after(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
  if (!outcomes.length) return;
  const caught = outcomes.filter((o) => o.caught).length;
  const lines = outcomes.map(
    (o) =>
      `  ${o.caught ? '✓ caught' : '✗ missed'} ${o.m.id} (${o.m.scenario.join(' ')}, ${o.seconds.toFixed(0)} s)${o.caught ? `: ${o.failure.slice(0, 160)}` : o.m.missed ? `: ${o.m.missed}` : ''}`,
  );
  console.log(
    `\nmistakes caught by the rehearsal: ${caught} of ${outcomes.length} (${((100 * caught) / outcomes.length).toFixed(0)} %)\n${lines.join('\n')}`,
  );
});

describe('realistic workflow mistakes fail the rehearsal, naming the problem', { concurrency: 2 }, () => {
  it('the list holds at least 25 mistakes, distinct, each editing a shipped workflow', () => {
    assert.ok(MISTAKES.length >= 25, `${MISTAKES.length} mistakes`);
    assert.equal(new Set(MISTAKES.map((m) => m.id)).size, MISTAKES.length);
  });
  for (const m of selected)
    it(`${m.id}: ${m.what}`, { timeout: 300_000 }, async () => {
      const dir = await mkdtemp(join(tmpdir(), `mistake-${m.id}-`));
      temps.push(dir);
      await cp(WORKFLOWS, dir, { recursive: true });
      const source = await readFile(join(dir, m.file), 'utf8');
      const changed = m.edit(source);
      assert.notEqual(changed, source, `the edit did not change ${m.file}`);
      await writeFile(join(dir, m.file), changed);
      seed ??= registryWithVersions([1]).then((made) => {
        temps.push(made.root);
        return made.url;
      });
      const lines: string[] = [];
      const started = Date.now();
      const r = await rehearse({
        source: REPO,
        workflow: m.scenario[0],
        event: m.scenario[1],
        workflowsDir: dir,
        registrySeed: await seed,
        npmRecord: NPM_RECORD,
        record: RECORD,
        print: (l) => lines.push(l),
      });
      temps.push(r.sandbox.root);
      const failure = r.failures.join('\n');
      const caught = !r.ok && m.expect.test(failure.replace(/\n/g, ' '));
      outcomes.push({ m, caught, failure, seconds: (Date.now() - started) / 1000 });
      if (m.missed) return;
      assert.ok(
        caught,
        `${m.id} was not caught as expected (${m.expect}); failures:\n${failure || '(none: green)'}\n${lines.slice(-40).join('\n')}`,
      );
    });
  // Every mistake not marked missed is asserted caught above, so this bounds the caught share.
  it('at least 90 % of the list is caught', () => {
    const caught = MISTAKES.filter((m) => !m.missed).length;
    assert.ok(caught / MISTAKES.length >= 0.9, `${caught} of ${MISTAKES.length} expected to be caught`);
  });
});
