// The stack's inputs: one committed file, infra/config.yaml, validated here. Local synths and
// infra.yml's plan and apply read the same file, so they plan the same resources; the environment
// cannot change them (loadConfig refuses a variable that disagrees with the file).
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const projectId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a GCP project ID: 6–30 lowercase letters, digits or hyphens');

export const stackConfigSchema = z
  .strictObject({
    projectId,
    region: z.string().regex(/^[a-z]+-[a-z]+\d+$/, 'a GCP region such as europe-west1'),
    /** `owner/name`: the only GitHub repository whose workflows may impersonate the CI identities. */
    githubRepository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name'),
    /** Numeric repository id; when set, a deleted-and-recreated repository of the same name is refused. */
    githubRepositoryId: z.string().regex(/^\d*$/, 'digits only'),
    /** GitHub environment whose jobs may impersonate the infra-apply identity (infra.yml uses it). */
    applyEnvironment: z.string().min(1),
    stateBucket: z.string().min(3),
    statePrefix: z.string().min(1),
    /** Bucket for the DVC remote (`dvc/`), the model registry (`registry/`) and batch output (`batch/`). */
    bucketName: z.string().regex(/^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$/, 'a GCS bucket name'),
    bucketLocation: z.string().min(2),
    /** Noncurrent object versions older than this are deleted (registry history stays in git tags). */
    noncurrentVersionDays: z.number().int().positive(),
    artifactRepository: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
    clusterName: z.string().regex(/^[a-z][a-z0-9-]{0,38}[a-z0-9]$/),
    clusterMode: z.enum(['autopilot', 'standard']),
    /** Standard mode only: the node pool's autoscaling bounds (per zone) and machine type. */
    nodePool: z.strictObject({
      machineType: z.string().min(1),
      minNodes: z.number().int().min(0),
      maxNodes: z.number().int().min(1),
      diskSizeGb: z.number().int().min(20),
      spot: z.boolean(),
    }),
    /** CIDRs allowed to reach the control plane; empty keeps it reachable by any authenticated client (GitHub runners have no fixed IPs). */
    masterAuthorizedNetworks: z.array(z.string().regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/)),
    deletionProtection: z.boolean(),
    network: z.strictObject({
      name: z.string().min(1),
      subnetCidr: z.string(),
      podsCidr: z.string(),
      servicesCidr: z.string(),
      masterCidr: z.string(),
    }),
    /** Kubernetes namespaces whose ServiceAccounts get Workload Identity bindings. */
    namespaces: z.array(z.string().min(1)).min(1),
    apiKubernetesServiceAccount: z.string().min(1),
    batchKubernetesServiceAccount: z.string().min(1),
    trainerKubernetesServiceAccount: z.string().min(1),
  })
  .refine((c) => c.nodePool.minNodes <= c.nodePool.maxNodes, 'nodePool.minNodes must not exceed nodePool.maxNodes');

export type StackConfig = z.infer<typeof stackConfigSchema>;

/** What the committed infra/config.yaml says until it is edited for a real project (docs/deploy.md, "First real run"). */
export const PLACEHOLDER_PROJECT = 'your-gcp-project';
export const PLACEHOLDER_REPOSITORY = 'your-org/gitops-ml';

/** The defaults infra/config.yaml was written from (tests build their configurations from them). */
export function defaultConfig(project = PLACEHOLDER_PROJECT, region = 'europe-west1'): StackConfig {
  return {
    projectId: project,
    region,
    githubRepository: PLACEHOLDER_REPOSITORY,
    githubRepositoryId: '',
    applyEnvironment: 'infra-production',
    stateBucket: `${project}-tfstate`,
    statePrefix: 'gitops-ml',
    bucketName: `${project}-gitops-ml`,
    bucketLocation: region.toUpperCase(),
    noncurrentVersionDays: 90,
    artifactRepository: 'gitops-ml',
    clusterName: 'gitops-ml',
    clusterMode: 'autopilot',
    nodePool: { machineType: 'e2-standard-4', minNodes: 1, maxNodes: 4, diskSizeGb: 50, spot: false },
    masterAuthorizedNetworks: [],
    deletionProtection: true,
    network: {
      name: 'gitops-ml',
      subnetCidr: '10.10.0.0/20',
      podsCidr: '10.20.0.0/14',
      servicesCidr: '10.24.0.0/20',
      masterCidr: '172.16.0.32/28',
    },
    namespaces: ['flight-delay', 'flight-delay-staging'],
    apiKubernetesServiceAccount: 'flight-delay-api',
    batchKubernetesServiceAccount: 'flight-delay-batch',
    trainerKubernetesServiceAccount: 'flight-delay-trainer',
  };
}

/** The one committed place the stack's settings live (local synth and CI both read it). */
export const CONFIG_FILE = join(import.meta.dirname, '..', 'config.yaml');
const REPO_ROOT = join(import.meta.dirname, '..', '..');
const shown = (file: string) => relative(REPO_ROOT, file);

type Env = Record<string, string | undefined>;

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Variables that used to override the settings (named like the repository variables the workflows
 * read, INFRA_* / GKE_* for the rest; GitHub Actions sets GITHUB_REPOSITORY and GITHUB_REPOSITORY_ID
 * itself). They no longer change anything: when one is set, it must say what the file says.
 */
export const CHECKED_ENV: ReadonlyArray<{
  env: string;
  field: string;
  of: (c: StackConfig) => unknown;
  read: (value: string) => unknown;
}> = [
  { env: 'GCP_PROJECT', field: 'projectId', of: (c) => c.projectId, read: String },
  { env: 'GCP_REGION', field: 'region', of: (c) => c.region, read: String },
  { env: 'GITHUB_REPOSITORY', field: 'githubRepository', of: (c) => c.githubRepository, read: String },
  { env: 'GITHUB_REPOSITORY_ID', field: 'githubRepositoryId', of: (c) => c.githubRepositoryId, read: String },
  { env: 'INFRA_APPLY_ENVIRONMENT', field: 'applyEnvironment', of: (c) => c.applyEnvironment, read: String },
  { env: 'TF_STATE_BUCKET', field: 'stateBucket', of: (c) => c.stateBucket, read: String },
  { env: 'TF_STATE_PREFIX', field: 'statePrefix', of: (c) => c.statePrefix, read: String },
  { env: 'GCS_BUCKET', field: 'bucketName', of: (c) => c.bucketName, read: String },
  { env: 'GAR_REPOSITORY', field: 'artifactRepository', of: (c) => c.artifactRepository, read: String },
  { env: 'GKE_CLUSTER', field: 'clusterName', of: (c) => c.clusterName, read: String },
  { env: 'GKE_MODE', field: 'clusterMode', of: (c) => c.clusterMode, read: String },
  { env: 'GKE_MACHINE_TYPE', field: 'nodePool.machineType', of: (c) => c.nodePool.machineType, read: String },
  { env: 'GKE_MIN_NODES', field: 'nodePool.minNodes', of: (c) => c.nodePool.minNodes, read: Number },
  { env: 'GKE_MAX_NODES', field: 'nodePool.maxNodes', of: (c) => c.nodePool.maxNodes, read: Number },
  { env: 'GKE_SPOT', field: 'nodePool.spot', of: (c) => c.nodePool.spot, read: (v) => v === 'true' },
  {
    env: 'GKE_AUTHORIZED_NETWORKS',
    field: 'masterAuthorizedNetworks',
    of: (c) => c.masterAuthorizedNetworks,
    read: list,
  },
  {
    env: 'INFRA_DELETION_PROTECTION',
    field: 'deletionProtection',
    of: (c) => c.deletionProtection,
    read: (v) => v !== 'false',
  },
];

/** infra/config.yaml (or `file`), validated: every field present, none unknown. */
export function readConfigFile(file = CONFIG_FILE): StackConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${shown(file)}: ${(e as Error).message}`, { cause: e });
  }
  return parseConfig(raw, shown(file));
}

/**
 * The stack's settings: the committed file, and nothing else. A variable of CHECKED_ENV that is set
 * (non-empty) and differs from the file is refused, naming both values, instead of being applied
 * locally and missing in CI (whose plan would then propose to undo it).
 */
export function loadConfig(env: Env = process.env, file = CONFIG_FILE): StackConfig {
  const config = readConfigFile(file);
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const disagreements = CHECKED_ENV.flatMap(({ env: name, field, of, read }) => {
    const value = env[name];
    if (!value || same(read(value), of(config))) return [];
    return [`  ${name}=${value} but ${shown(file)} says ${field}: ${JSON.stringify(of(config))}`];
  });
  if (disagreements.length > 0) {
    const ci =
      env.GITHUB_ACTIONS === 'true'
        ? `\n(in GitHub Actions GCP_PROJECT is the repository variable and GITHUB_REPOSITORY / GITHUB_REPOSITORY_ID the repository running the workflow: fix the file or the repository's settings)`
        : '';
    throw new Error(
      `the environment disagrees with ${shown(file)}, the only source of the stack's settings:\n${disagreements.join('\n')}\n` +
        `Change ${shown(file)} and commit it, so CI plans the same; or unset the variable (it changes nothing).${ci}`,
    );
  }
  return config;
}

export function parseConfig(candidate: unknown, source = 'infra/config.yaml'): StackConfig {
  const parsed = stackConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`).join('\n');
    throw new Error(`${source} is invalid:\n${problems}`);
  }
  return parsed.data;
}
