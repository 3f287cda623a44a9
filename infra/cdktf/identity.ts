// Who may do what: one service account per job, each granted only what that job touches,
// GitHub Actions reaching them through Workload Identity Federation (no keys anywhere).
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account/index.js';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member/index.js';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member/index.js';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member/index.js';
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member/index.js';
import { IamWorkloadIdentityPool } from '@cdktf/provider-google/lib/iam-workload-identity-pool/index.js';
import { IamWorkloadIdentityPoolProvider } from '@cdktf/provider-google/lib/iam-workload-identity-pool-provider/index.js';
import type { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket/index.js';
import type { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository/index.js';
import type { StackConfig } from './config.ts';

/** Service accounts by role; the ids are what infra/k8s and the workflows expect. */
export const ACCOUNTS = {
  ciDeploy: { id: 'ci-deploy', title: 'CI: build images and deploy the API (deploy-api.yml)' },
  trainer: { id: 'trainer', title: 'CI: train, push DVC data, register models (train.yml)' },
  apiRuntime: { id: 'api-runtime', title: 'GKE: the inference API, reads the model registry' },
  batchRuntime: { id: 'batch-runtime', title: 'GKE: batch scoring CronJobs' },
  trainerRuntime: { id: 'trainer-runtime', title: 'GKE: the trainer Job (reads/writes dvc/ and registry/)' },
  gkeNodes: { id: 'gke-nodes', title: 'GKE nodes: logs, metrics, image pulls' },
  infraPlan: { id: 'infra-plan', title: 'CI: terraform plan on pull requests (read-only)' },
  infraApply: { id: 'infra-apply', title: 'CI: terraform apply from the protected environment' },
} as const;
export type AccountKey = keyof typeof ACCOUNTS;

/** Node identity: the minimum GKE documents for a node service account. */
const NODE_ROLES = [
  'roles/logging.logWriter',
  'roles/monitoring.metricWriter',
  'roles/monitoring.viewer',
  'roles/stackdriver.resourceMetadata.writer',
  'roles/autoscaling.metricsWriter',
];
/**
 * Plan refreshes every managed resource and its IAM policy and changes none: each role is
 * viewer-level (get and list; no create, update, delete or setIamPolicy) and is here for the
 * resources whose refresh needs it. On the buckets: see grants() (data bucket) and STATE_ROLES.
 */
const PLAN_ROLES = [
  // VPC, subnet, Cloud Router and NAT (compute.networks/subnetworks/routers.get).
  'roles/compute.viewer',
  // The cluster and its node pool (container.clusters.get); not the Kubernetes objects inside.
  'roles/container.clusterViewer',
  // The service accounts and every *_iam_member of the stack: getIamPolicy on the project, the
  // service accounts, the buckets (the state bucket's too) and the image repository.
  'roles/iam.securityReviewer',
  // The GitHub workload identity pool and its OIDC provider.
  'roles/iam.workloadIdentityPoolViewer',
  // The Artifact Registry repository (artifactregistry.repositories.get). No predefined role reads
  // only its metadata: reader can also pull images, which hold nothing secret from CI.
  'roles/artifactregistry.reader',
  // The enabled APIs (google_project_service: serviceusage.services.get).
  'roles/serviceusage.serviceUsageViewer',
];
/** Roles on the Terraform state bucket. */
const STATE_ROLES = {
  infraPlan: 'roles/storage.objectViewer', // read the state (objects.get, objects.list)
  infraApply: 'roles/storage.objectUser', // read and write the state, create and delete the lock object
} as const;

/** Apply manages exactly the resource types this stack declares (see docs/deploy.md for the bootstrap). */
const APPLY_ROLES = [
  'roles/compute.networkAdmin',
  'roles/container.admin',
  'roles/storage.admin',
  'roles/artifactregistry.admin',
  'roles/iam.serviceAccountAdmin',
  'roles/iam.workloadIdentityPoolAdmin',
  'roles/resourcemanager.projectIamAdmin',
  'roles/serviceusage.serviceUsageAdmin',
];

export function githubAttributeCondition(config: Pick<StackConfig, 'githubRepository' | 'githubRepositoryId'>): string {
  const parts = [`assertion.repository == '${config.githubRepository}'`];
  if (config.githubRepositoryId) parts.push(`assertion.repository_id == '${config.githubRepositoryId}'`);
  return parts.join(' && ');
}

export interface IdentityInputs {
  bucket: StorageBucket;
  images: ArtifactRegistryRepository;
}

export function serviceAccounts(scope: Construct, dependsOn: ITerraformDependable[]) {
  const entries = Object.entries(ACCOUNTS).map(([key, a]) => [
    key,
    new ServiceAccount(scope, `sa-${a.id}`, { accountId: a.id, displayName: a.id, description: a.title, dependsOn }),
  ]);
  return Object.fromEntries(entries) as Record<AccountKey, ServiceAccount>;
}

export function grants(
  scope: Construct,
  config: StackConfig,
  sa: Record<AccountKey, ServiceAccount>,
  on: IdentityInputs,
) {
  const member = (key: AccountKey) => `serviceAccount:${sa[key].email}`;
  const onBucket = (key: AccountKey, role: string, condition?: { title: string; expression: string }) =>
    new StorageBucketIamMember(scope, `bucket-${ACCOUNTS[key].id}-${role.split('.').pop()}`, {
      bucket: on.bucket.name,
      role,
      member: member(key),
      ...(condition ? { condition } : {}),
    });
  const onImages = (key: AccountKey, role: string) =>
    new ArtifactRegistryRepositoryIamMember(scope, `images-${ACCOUNTS[key].id}-${role.split('.').pop()}`, {
      project: config.projectId,
      location: on.images.location,
      repository: on.images.name,
      role,
      member: member(key),
    });
  const onProject = (key: AccountKey, role: string) =>
    new ProjectIamMember(scope, `project-${ACCOUNTS[key].id}-${role.replace(/^roles\//, '').replace(/\./g, '-')}`, {
      project: config.projectId,
      role,
      member: member(key),
    });
  const onStateBucket = (key: AccountKey, role: string) =>
    // The state bucket predates the stack (bootstrap); only the binding is managed here.
    new StorageBucketIamMember(scope, `state-${ACCOUNTS[key].id}`, {
      bucket: config.stateBucket,
      role,
      member: member(key),
    });

  onBucket('trainer', 'roles/storage.objectAdmin');
  onBucket('apiRuntime', 'roles/storage.objectViewer');
  onBucket('ciDeploy', 'roles/storage.objectViewer'); // reads the registry to label the image
  onBucket('batchRuntime', 'roles/storage.objectViewer');
  onBucket('batchRuntime', 'roles/storage.objectCreator', {
    title: 'batch-output-only',
    expression: `resource.name.startsWith("projects/_/buckets/${config.bucketName}/objects/batch/")`,
  });
  // Plan refreshes the bucket's settings (storage.buckets.get; also lists object names, reads none).
  onBucket('infraPlan', 'roles/storage.legacyBucketReader');
  // The trainer Job reads the bucket, and writes only the DVC remote and the model registry.
  onBucket('trainerRuntime', 'roles/storage.objectViewer');
  onBucket('trainerRuntime', 'roles/storage.objectUser', {
    title: 'dvc-and-registry-only',
    expression: ['dvc', 'registry']
      .map((p) => `resource.name.startsWith("projects/_/buckets/${config.bucketName}/objects/${p}/")`)
      .join(' || '),
  });

  onImages('ciDeploy', 'roles/artifactregistry.writer');
  onImages('gkeNodes', 'roles/artifactregistry.reader');
  onProject('ciDeploy', 'roles/container.developer');
  // The canary analysis queries Google Managed Prometheus (monitoring.googleapis.com) as ci-deploy.
  onProject('ciDeploy', 'roles/monitoring.viewer');
  for (const role of NODE_ROLES) onProject('gkeNodes', role);
  for (const role of PLAN_ROLES) onProject('infraPlan', role);
  for (const role of APPLY_ROLES) onProject('infraApply', role);
  // Plan reads the state and nothing more: it cannot overwrite or delete it, nor create the GCS
  // backend's lock object, so infra.yml plans with -lock=false. Apply reads and writes the state
  // and takes the lock (object create and delete).
  onStateBucket('infraPlan', STATE_ROLES.infraPlan);
  onStateBucket('infraApply', STATE_ROLES.infraApply);
  // Apply assigns the node identity to node pools: allowed on that one account only.
  new ServiceAccountIamMember(scope, 'gke-nodes-actas-infra-apply', {
    serviceAccountId: sa.gkeNodes.name,
    role: 'roles/iam.serviceAccountUser',
    member: member('infraApply'),
  });
}

/** Kubernetes ServiceAccounts of infra/k8s act as their GCP service accounts. */
export function kubernetesBindings(
  scope: Construct,
  config: StackConfig,
  sa: Record<AccountKey, ServiceAccount>,
  cluster: ITerraformDependable,
) {
  const pairs: Array<[AccountKey, string]> = [
    ['apiRuntime', config.apiKubernetesServiceAccount],
    ['batchRuntime', config.batchKubernetesServiceAccount],
    ['trainerRuntime', config.trainerKubernetesServiceAccount],
  ];
  for (const namespace of config.namespaces) {
    for (const [key, ksa] of pairs) {
      new ServiceAccountIamMember(scope, `wi-${namespace}-${ksa}`, {
        serviceAccountId: sa[key].name,
        role: 'roles/iam.workloadIdentityUser',
        member: `serviceAccount:${config.projectId}.svc.id.goog[${namespace}/${ksa}]`,
        dependsOn: [cluster], // the identity pool PROJECT.svc.id.goog exists once a cluster uses it
      });
    }
  }
}

/** GitHub OIDC → Workload Identity Federation, accepted only for the configured repository. */
export function githubFederation(
  scope: Construct,
  config: StackConfig,
  sa: Record<AccountKey, ServiceAccount>,
  dependsOn: ITerraformDependable[],
) {
  const pool = new IamWorkloadIdentityPool(scope, 'github-pool', {
    workloadIdentityPoolId: 'github',
    displayName: 'GitHub Actions',
    description: `Workflows of ${config.githubRepository}`,
    dependsOn,
  });
  const provider = new IamWorkloadIdentityPoolProvider(scope, 'github-provider', {
    workloadIdentityPoolId: pool.workloadIdentityPoolId,
    workloadIdentityPoolProviderId: 'github-actions',
    displayName: 'GitHub Actions OIDC',
    attributeMapping: {
      'google.subject': 'assertion.sub',
      'attribute.repository': 'assertion.repository',
      'attribute.repository_id': 'assertion.repository_id',
      'attribute.ref': 'assertion.ref',
    },
    attributeCondition: githubAttributeCondition(config),
    oidc: { issuerUri: 'https://token.actions.githubusercontent.com' },
  });
  const repositoryPrincipals = `principalSet://iam.googleapis.com/${pool.name}/attribute.repository/${config.githubRepository}`;
  const subject = (sub: string) =>
    `principal://iam.googleapis.com/${pool.name}/subject/repo:${config.githubRepository}:${sub}`;
  const impersonation: Array<[AccountKey, string, string]> = [
    ['trainer', 'repo', repositoryPrincipals],
    ['ciDeploy', 'repo', repositoryPrincipals],
    // Plan runs on pull requests (same-repository only: forks get no token); apply only in the
    // protected environment, whose required reviewers gate every change.
    ['infraPlan', 'pull-request', subject('pull_request')],
    ['infraApply', 'environment', subject(`environment:${config.applyEnvironment}`)],
  ];
  for (const [key, label, principal] of impersonation) {
    new ServiceAccountIamMember(scope, `wif-${ACCOUNTS[key].id}-${label}`, {
      serviceAccountId: sa[key].name,
      role: 'roles/iam.workloadIdentityUser',
      member: principal,
    });
  }
  return { pool, provider };
}
