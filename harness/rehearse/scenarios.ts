/**
 * Every workflow and event this repository ships, as rehearsal scenarios: the event GitHub would
 * send (with the stand-in origin's refs), the repository variables and secrets a configured
 * repository has, the runs chained the way GitHub chains them (pr-report → pr-comment), and the
 * effects each must leave (jobs run and green, comments, commits, tags, images, rollouts).
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, parseDocument } from 'yaml';
import {
  commitOnOrigin,
  defaultBranchEvent,
  dispatchEvent,
  head,
  payload,
  pullRequest,
  pushEvent,
  tagPushEvent,
  workflowRunEvent,
} from './events.ts';
import {
  botCommitOn,
  dvcRemoteHolds,
  branchUnchanged,
  called,
  commitCommentOn,
  imagePushed,
  jobsSucceed,
  noJobRuns,
  queuesNotCancels,
  registryFollowsTags,
  rolledOut,
  stickyPrComment,
  tagsOn,
  type Effect,
} from './effects.ts';
import { apply, type Cluster } from './stubs/kubectl.ts';
import { git, REPOSITORY_ID, type RehearsalSandbox } from './sandbox.ts';
import type { RehearsalEvent, RunResult } from './types.ts';
import { nextGtoCounter } from '../../core/registry/index.ts';

const exec = promisify(execFile);

export const PROJECT = 'acme-ml';
/** The stack's default names for this project (infra/config.yaml, configured for it by configureInfra). */
export const BUCKET = `${PROJECT}-gitops-ml`;

/** What a repository configured per docs/deploy.md "First real run" holds (values are the stand-in project's). */
export function repositoryVariables(s: RehearsalSandbox): Record<string, string> {
  const sa = (name: string) => `${name}@${PROJECT}.iam.gserviceaccount.com`;
  return {
    GCP_PROJECT: PROJECT,
    GCP_REGION: 'europe-west1',
    GAR_REPOSITORY: 'gitops-ml',
    GCS_BUCKET: BUCKET,
    GCP_WORKLOAD_IDENTITY_PROVIDER:
      'projects/123456789012/locations/global/workloadIdentityPools/github/providers/github',
    GCP_TRAIN_SERVICE_ACCOUNT: sa('trainer'),
    GCP_DEPLOY_SERVICE_ACCOUNT: sa('ci-deploy'),
    GCP_INFRA_PLAN_SERVICE_ACCOUNT: sa('infra-plan'),
    GCP_INFRA_APPLY_SERVICE_ACCOUNT: sa('infra-apply'),
    GKE_CLUSTER: 'gitops-ml',
    GKE_LOCATION: 'europe-west1',
    // The registry in the stand-in bucket (a directory: the registry code's gs:// client is not rehearsed).
    REGISTRY_URL: join(s.cloud, 'gcs', BUCKET, 'registry'),
    CANARY_OBSERVE_SECONDS: '2',
  };
}

export interface ScenarioContext {
  sandbox: RehearsalSandbox;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  /** Run `<workflow>.yml` for `event` (with variables overridden by `vars`). */
  run(workflow: string, event: RehearsalEvent, vars?: Record<string, string>): Promise<RunResult>;
  print(line: string): void;
  /** A registry directory holding a production model, copied into the stand-in bucket (deploy). */
  registrySeed?: string;
  /** Start the API the cluster's pods stand for, on the registry in the bucket; returns its port. */
  startApi(registryUrl: string): Promise<number>;
}

type Scenario = (c: ScenarioContext) => Promise<RunResult[]>;

/** A production model in the stand-in bucket's registry: the seed given, or else train first, as a first real run does. */
async function seedRegistry(c: ScenarioContext): Promise<void> {
  const target = c.vars.REGISTRY_URL;
  if (existsSync(target)) return;
  if (c.registrySeed && existsSync(c.registrySeed)) {
    await mkdir(target, { recursive: true });
    await cp(c.registrySeed, target, { recursive: true });
    return;
  }
  c.print(
    'no production model to deploy yet: rehearsing train (workflow_dispatch, max_batches 1) first, as a first real run does',
  );
  const trained = await trainsModel(c, await dispatchEvent(c.sandbox, 'main', { max_batches: '1' }));
  if (trained.conclusion !== 'success') throw new Error('train failed, so there is no production model to deploy');
}

/**
 * The cluster before the deploy: `null` = as the infra apply leaves it (no namespace yet: the first
 * deploy creates it); an overlay name = a previous release of that overlay running (its image in
 * the registry), for the strategies that switch from a live track.
 */
async function seedCluster(c: ScenarioContext, overlay: string | null, apiPort: number): Promise<void> {
  const cluster: Cluster = {
    namespaces: ['default', 'kube-system'],
    deployments: {},
    services: {},
    objects: [],
    apiPort,
  };
  if (overlay) {
    const work = join(c.sandbox.root, 'cluster-seed');
    if (!existsSync(work)) await exec('git', ['clone', '-q', '-b', 'api', c.sandbox.origin, work]);
    const { stdout } = await exec('kubectl', ['kustomize', join(work, 'infra', 'k8s', 'overlays', overlay)], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const repo = `${c.vars.GCP_REGION}-docker.pkg.dev/${c.vars.GCP_PROJECT}/${c.vars.GAR_REPOSITORY}/api`;
    const previous = { repo, tag: 'previous', digest: `sha256:${'0'.repeat(64)}` };
    const text = stdout
      .replace(/^(\s+image:\s+)api$/gm, `$1${repo}@${previous.digest}`)
      .replace(/\$\{GCP_PROJECT\}/g, c.vars.GCP_PROJECT)
      .replace(/\$\{GCS_BUCKET\}/g, c.vars.GCS_BUCKET);
    await writeFile(join(c.sandbox.cloud, 'registry.json'), JSON.stringify([previous]));
    const prev = process.env.REHEARSE_CLOUD;
    process.env.REHEARSE_CLOUD = c.sandbox.cloud;
    try {
      apply(
        cluster,
        parseAllDocuments(text)
          .map((d) => d.toJS())
          .filter(Boolean),
        'default',
      );
    } catch (err) {
      throw new Error(
        `seeding the previous ${overlay} release failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`,
        { cause: err },
      );
    } finally {
      if (prev === undefined) delete process.env.REHEARSE_CLOUD;
      else process.env.REHEARSE_CLOUD = prev;
    }
    for (const d of Object.values(cluster.deployments)) d.ready.push(d.image);
  }
  await writeFile(join(c.sandbox.cloud, 'cluster.json'), JSON.stringify(cluster, null, 2));
  c.print(
    overlay
      ? `cluster: a previous ${overlay} release runs (${Object.keys(cluster.deployments).length} deployments); pods answer on the local API at 127.0.0.1:${apiPort}`
      : `cluster: empty, as the infra apply leaves it (the first deploy creates the namespace); pods answer on the local API at 127.0.0.1:${apiPort}`,
  );
}

const deploy =
  (strategy: string, overlay: string | null): Scenario =>
  async (c) => {
    await seedRegistry(c);
    const port = await c.startApi(c.vars.REGISTRY_URL);
    await seedCluster(c, overlay, port);
    return [await c.run('deploy-api', await pushEvent(c.sandbox, 'api'), { DEPLOY_STRATEGY: strategy })];
  };

const pr =
  (fork: boolean): Scenario =>
  async (c) => {
    const p = await pullRequest(c.sandbox, {
      base: 'model',
      fork,
      files: { 'docs/rehearsal.md': `PR ${fork ? 'from a fork' : 'from a branch'}\n` },
      message: 'Rehearsal: a pull request',
    });
    const report = await c.run('pr-report', p.event);
    const relay = await c.run(
      'pr-comment',
      await workflowRunEvent(c.sandbox, {
        name: 'PR report',
        runId: report.runId,
        conclusion: report.conclusion,
        pr: p,
      }),
    );
    return [report, relay];
  };

/**
 * docs/deploy.md "First real run": infra/config.yaml names the project and the repository, committed to
 * main before the first apply; the repository variables then hold the stack's outputs for it
 * (repositoryVariables). CI's synth refuses a file that disagrees with them.
 */
async function configureInfra(c: ScenarioContext): Promise<void> {
  const path = 'infra/config.yaml';
  const doc = parseDocument(await git(c.sandbox.origin, 'show', `refs/heads/main:${path}`));
  const settings: Record<string, string> = {
    projectId: c.vars.GCP_PROJECT,
    region: c.vars.GCP_REGION,
    githubRepository: c.sandbox.repository,
    githubRepositoryId: REPOSITORY_ID, // the stand-in repository's id, as the runner sets GITHUB_REPOSITORY_ID
    stateBucket: `${c.vars.GCP_PROJECT}-tfstate`,
    bucketName: c.vars.GCS_BUCKET,
    bucketLocation: c.vars.GCP_REGION.toUpperCase(),
    artifactRepository: c.vars.GAR_REPOSITORY,
    clusterName: c.vars.GKE_CLUSTER,
  };
  for (const [key, value] of Object.entries(settings)) doc.set(key, value);
  await commitOnOrigin(
    c.sandbox,
    await head(c.sandbox, 'main'),
    'refs/heads/main',
    { [path]: doc.toString() },
    `infra/config.yaml for ${c.vars.GCP_PROJECT} and ${c.sandbox.repository} (First real run)`,
  );
  c.print(`${path} on main configured for ${c.vars.GCP_PROJECT} and ${c.sandbox.repository}, as First real run does`);
}

const infra =
  (kind: 'plan' | 'apply'): Scenario =>
  async (c) => {
    await configureInfra(c);
    const change = { files: { 'infra/REHEARSAL.md': 'a change under infra/\n' }, message: 'Rehearsal: infra change' };
    if (kind === 'plan') {
      const p = await pullRequest(c.sandbox, {
        base: 'main',
        fork: false,
        files: change.files,
        message: change.message,
      });
      return [await c.run('infra', p.event)];
    }
    return [await c.run('infra', await pushEvent(c.sandbox, 'main', change))];
  };

/**
 * A train run started from the default branch (schedule, repository_dispatch, and "Run workflow",
 * whose branch picker defaults to main) must commit its results to `model` and leave main alone
 * (TRAIN_EFFECTS); seeding a deploy's registry by training checks that at once.
 */
async function trainsModel(c: ScenarioContext, event: RehearsalEvent): Promise<RunResult> {
  const before = await head(c.sandbox, 'main');
  const r = await c.run('train', event);
  const after = await head(c.sandbox, 'main');
  if (after !== before)
    throw new Error(
      `train (${event.name} from ${event.ref}) pushed to main (${before.slice(0, 8)} → ${after.slice(0, 8)}): results belong on model`,
    );
  return r;
}

/** A scenario: how to run it, and what it must leave behind (effects.ts) once it ran green. */
export interface ScenarioDef {
  run: Scenario;
  effects: Effect[];
}

// With the pipeline recorded (REHEARSE_NPM_RECORD), the results cannot change: no results commit.
const PIPELINE = /^run (pipeline|pipeline:start|ingest)$/;
/** The registry in the stand-in bucket (repositoryVariables' REGISTRY_URL). */
const bucketRegistry = (s: RehearsalSandbox) => join(s.cloud, 'gcs', BUCKET, 'registry');
const TRAIN_EFFECTS = [
  jobsSucceed('train', ['train', 'publish', 'sync']),
  branchUnchanged('main'),
  botCommitOn('model', PIPELINE),
  tagsOn('model', /^flight-delay(@v\d+\.0\.0|#production#\d+)$/),
  commitCommentOn('model'),
  queuesNotCancels('train'),
  registryFollowsTags('flight-delay', bucketRegistry),
  dvcRemoteHolds('model', (s) => join(s.cloud, 'gcs', BUCKET, 'dvc')),
];

/**
 * A person's `gto assign flight-delay --version v1.0.0 --stage staging --push` (and the
 * `gto register` before it, both at the head of model) on a registry holding v1: registry-sync.yml
 * runs on the tag push and the registry follows.
 */
async function personAssigns(c: ScenarioContext): Promise<RunResult[]> {
  await seedRegistry(c);
  const commit = await head(c.sandbox, 'model');
  const tags = (await git(c.sandbox.origin, 'tag', '--list')).split('\n').filter(Boolean);
  if (!tags.includes('flight-delay@v1.0.0'))
    await tagPushEvent(c.sandbox, {
      name: 'flight-delay@v1.0.0',
      commit,
      message: 'Registering artifact flight-delay version v1.0.0',
    });
  const counter = nextGtoCounter([...tags, 'flight-delay@v1.0.0'], 'flight-delay');
  const event = await tagPushEvent(c.sandbox, {
    name: `flight-delay#staging#${counter}`,
    commit,
    message: 'Assigning stage staging to artifact flight-delay version v1.0.0',
  });
  return [await c.run('registry-sync', event)];
}
const PR_EFFECTS = [
  jobsSucceed('pr-report', ['report']),
  jobsSucceed('pr-comment', ['comment']),
  // The report is of the PR against its base branch (pr-report reads origin/<base>:metrics).
  stickyPrComment(/<!-- gitops-ml-report -->/, {
    text: /_No metrics on [^_]* to compare with\._/,
    meaning: "comparing with the base branch's metrics",
  }),
];
const DEPLOY_EFFECTS = [
  jobsSucceed('deploy-api', ['test', 'build', 'deploy']),
  imagePushed('deploy-api', 'api'),
  rolledOut('api'),
  queuesNotCancels('deploy-api'),
];
const IMAGE_EFFECTS = [jobsSucceed('trainer-image', ['build']), imagePushed('trainer-image', 'trainer')];

export const SCENARIOS: Record<string, Record<string, ScenarioDef>> = {
  train: {
    push: {
      run: async (c) => [
        await c.run(
          'train',
          await pushEvent(c.sandbox, 'model', {
            files: { 'docs/rehearsal.md': 'retrain\n' },
            message: 'Rehearsal: retrain',
          }),
        ),
      ],
      effects: TRAIN_EFFECTS,
    },
    // The bot's own results commit: GitHub starts no run for [skip ci]; if one starts anyway, the job guard skips it.
    'push-bot': {
      run: async (c) => {
        const e = await pushEvent(c.sandbox, 'model');
        const bot = payload('push-bot');
        return [
          await c.run('train', {
            ...e,
            actor: 'github-actions[bot]',
            payload: { ...e.payload, head_commit: { ...(bot.head_commit as object), id: e.sha } },
          }),
        ];
      },
      effects: [noJobRuns('train'), branchUnchanged('model'), branchUnchanged('main')],
    },
    schedule: {
      run: async (c) => [await trainsModel(c, await defaultBranchEvent(c.sandbox, 'schedule'))],
      effects: TRAIN_EFFECTS,
    },
    repository_dispatch: {
      run: async (c) => [await trainsModel(c, await defaultBranchEvent(c.sandbox, 'repository_dispatch'))],
      effects: TRAIN_EFFECTS,
    },
    // "Run workflow" defaults to main in the Actions UI: rehearse what a user clicking it gets.
    workflow_dispatch: {
      run: async (c) => [await trainsModel(c, await dispatchEvent(c.sandbox, 'main', { max_batches: '1' }))],
      effects: TRAIN_EFFECTS,
    },
  },
  'pr-report': {
    pull_request: { run: pr(false), effects: PR_EFFECTS },
    'pull_request-fork': { run: pr(true), effects: PR_EFFECTS },
  },
  'pr-comment': {
    workflow_run: { run: pr(false), effects: PR_EFFECTS },
    'workflow_run-fork': { run: pr(true), effects: PR_EFFECTS },
  },
  'deploy-api': {
    push: { run: deploy('rolling', null), effects: DEPLOY_EFFECTS },
    'push-blue-green': { run: deploy('blue-green', 'blue-green'), effects: DEPLOY_EFFECTS },
    'push-canary': { run: deploy('canary', 'canary'), effects: DEPLOY_EFFECTS },
  },
  infra: {
    pull_request: {
      run: infra('plan'),
      effects: [
        jobsSucceed('infra', ['plan']),
        called('terraform', /\bplan\b/),
        stickyPrComment(/^<!-- infra-plan -->/),
      ],
    },
    push: {
      run: infra('apply'),
      effects: [jobsSucceed('infra', ['apply']), called('terraform', /\bapply\b/), queuesNotCancels('infra')],
    },
  },
  'trainer-image': {
    push: {
      run: async (c) => [
        await c.run(
          'trainer-image',
          await pushEvent(c.sandbox, 'model', {
            files: { 'training/REHEARSAL.md': 'a change under training/\n' },
            message: 'Rehearsal: trainer change',
          }),
        ),
      ],
      effects: IMAGE_EFFECTS,
    },
    workflow_dispatch: {
      run: async (c) => [await c.run('trainer-image', await dispatchEvent(c.sandbox, 'main', {}))],
      effects: IMAGE_EFFECTS,
    },
  },
  'registry-sync': {
    push: {
      run: personAssigns,
      effects: [
        jobsSucceed('registry-sync', ['sync']),
        registryFollowsTags('flight-delay', bucketRegistry),
        queuesNotCancels('registry-sync'),
      ],
    },
  },
  ci: {
    push: {
      run: async (c) => [await c.run('ci', await pushEvent(c.sandbox, 'main'))],
      effects: [jobsSucceed('ci', ['test'])],
    },
    pull_request: {
      run: async (c) => [
        await c.run(
          'ci',
          (
            await pullRequest(c.sandbox, {
              base: 'main',
              fork: false,
              files: { 'docs/rehearsal.md': 'x\n' },
              message: 'Rehearsal: PR',
            })
          ).event,
        ),
      ],
      effects: [jobsSucceed('ci', ['test'])],
    },
  },
};
