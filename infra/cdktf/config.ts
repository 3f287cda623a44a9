// The stack's inputs. Defaults live here (reviewed in git, so a plan shows what changes);
// the environment may override them for another project or a local experiment.
import { z } from 'zod';

const projectId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a GCP project ID: 6–30 lowercase letters, digits or hyphens');

export const stackConfigSchema = z
  .object({
    projectId,
    region: z.string().regex(/^[a-z]+-[a-z]+\d+$/, 'a GCP region such as europe-west1'),
    /** `owner/name`: the only GitHub repository whose workflows may impersonate the CI identities. */
    githubRepository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name'),
    /** Numeric repository id; when set, a deleted-and-recreated repository of the same name is refused. */
    githubRepositoryId: z.string().regex(/^\d*$/, 'digits only').default(''),
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
    nodePool: z.object({
      machineType: z.string().min(1),
      minNodes: z.number().int().min(0),
      maxNodes: z.number().int().min(1),
      diskSizeGb: z.number().int().min(20),
      spot: z.boolean(),
    }),
    /** CIDRs allowed to reach the control plane; empty keeps it reachable by any authenticated client (GitHub runners have no fixed IPs). */
    masterAuthorizedNetworks: z.array(z.string().regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/)),
    deletionProtection: z.boolean(),
    network: z.object({
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

/** Replace before the first apply (or set GCP_PROJECT / GITHUB_REPOSITORY). */
export const PLACEHOLDER_PROJECT = 'your-gcp-project';
export const PLACEHOLDER_REPOSITORY = 'your-org/gitops-ml';

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

type Env = Record<string, string | undefined>;

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Defaults overridden by environment variables named like the repository variables the workflows
 * read (GCP_PROJECT, GCP_REGION, GCS_BUCKET, GAR_REPOSITORY, GKE_CLUSTER) plus INFRA_* for the rest.
 * GITHUB_REPOSITORY is set by GitHub Actions itself.
 */
export function configFromEnv(env: Env = process.env): StackConfig {
  const base = defaultConfig(env.GCP_PROJECT || undefined, env.GCP_REGION || undefined);
  const int = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  const candidate = {
    ...base,
    githubRepository: env.GITHUB_REPOSITORY || base.githubRepository,
    githubRepositoryId: env.GITHUB_REPOSITORY_ID || base.githubRepositoryId,
    applyEnvironment: env.INFRA_APPLY_ENVIRONMENT || base.applyEnvironment,
    stateBucket: env.TF_STATE_BUCKET || base.stateBucket,
    statePrefix: env.TF_STATE_PREFIX || base.statePrefix,
    bucketName: env.GCS_BUCKET || base.bucketName,
    artifactRepository: env.GAR_REPOSITORY || base.artifactRepository,
    clusterName: env.GKE_CLUSTER || base.clusterName,
    clusterMode: env.GKE_MODE || base.clusterMode,
    nodePool: {
      ...base.nodePool,
      machineType: env.GKE_MACHINE_TYPE || base.nodePool.machineType,
      minNodes: int('GKE_MIN_NODES', base.nodePool.minNodes),
      maxNodes: int('GKE_MAX_NODES', base.nodePool.maxNodes),
      spot: env.GKE_SPOT ? env.GKE_SPOT === 'true' : base.nodePool.spot,
    },
    masterAuthorizedNetworks: env.GKE_AUTHORIZED_NETWORKS
      ? list(env.GKE_AUTHORIZED_NETWORKS)
      : base.masterAuthorizedNetworks,
    deletionProtection: env.INFRA_DELETION_PROTECTION
      ? env.INFRA_DELETION_PROTECTION !== 'false'
      : base.deletionProtection,
  };
  return parseConfig(candidate);
}

export function parseConfig(candidate: unknown): StackConfig {
  const parsed = stackConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`).join('\n');
    throw new Error(`infra/cdktf config is invalid; fix infra/cdktf/config.ts or the environment:\n${problems}`);
  }
  return parsed.data;
}
