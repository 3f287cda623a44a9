// Synthesizes the stack in-process (no network, no terraform binary) and checks the Terraform
// JSON a reviewer would read: resources, wiring and the security properties of each.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Testing } from 'cdktf';
import { defaultConfig, parseConfig, type StackConfig } from './config.ts';
import { githubAttributeCondition } from './identity.ts';
import { GitopsMlStack } from './stack.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

/** cdktf's test app makes a directory of its own under the OS temporary directory unless given one. */
const CDKTF_OUTDIR = await tempDir('cdktf-test-');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- synthesized Terraform JSON is walked ad hoc and each test asserts the shape it reads (the config turns the no-unsafe-* rules off in tests for this)
type Json = Record<string, any>;

const CONFIG: StackConfig = parseConfig({
  ...defaultConfig('acme-ml-prod', 'europe-west1'),
  githubRepository: 'acme/gitops-ml',
  githubRepositoryId: '123456',
});

function synth(config: StackConfig): Json {
  const app = Testing.app({ outdir: CDKTF_OUTDIR });
  const stack = new GitopsMlStack(app, 'test', config);
  return JSON.parse(Testing.synth(stack));
}

const resources = (tf: Json, type: string): Json[] => Object.values(tf.resource?.[type] ?? {});
const one = (tf: Json, type: string): Json => {
  const all = resources(tf, type);
  assert.equal(all.length, 1, `expected exactly one ${type}, found ${all.length}`);
  return all[0];
};
const single = <T>(block: T | T[]): T => (Array.isArray(block) ? block[0] : block);
const iamMembers = (tf: Json): Json[] =>
  Object.entries(tf.resource as Json).flatMap(([type, byName]) =>
    type.endsWith('_iam_member') ? Object.values(byName as Json).map((r): Json => ({ type, ...(r as Json) })) : [],
  );
const membersOf = (tf: Json, accountId: string) =>
  iamMembers(tf).filter(
    (m) => String(m.member).includes(`sa-${accountId}.`) || String(m.member).includes(`:${accountId}@`),
  );

const autopilot = synth(CONFIG);
const standard = synth({ ...CONFIG, clusterMode: 'standard' });

describe('cdktf stack', () => {
  it('uses the GCS backend and the google provider for the configured project', () => {
    assert.deepEqual(autopilot.terraform.backend.gcs, { bucket: 'acme-ml-prod-tfstate', prefix: 'gitops-ml' });
    const provider = single(autopilot.provider.google);
    assert.equal(provider.project, 'acme-ml-prod');
    assert.equal(provider.region, 'europe-west1');
  });

  it('builds a custom VPC, a subnet with pod and service ranges, a router and NAT', () => {
    assert.equal(one(autopilot, 'google_compute_network').auto_create_subnetworks, false);
    const subnet = one(autopilot, 'google_compute_subnetwork');
    assert.equal(subnet.private_ip_google_access, true);
    assert.deepEqual(
      subnet.secondary_ip_range.map((r: Json) => r.range_name),
      ['pods', 'services'],
    );
    assert.match(subnet.network, /google_compute_network\.\w+\.id/);
    assert.match(one(autopilot, 'google_compute_router').network, /google_compute_network/);
    const nat = one(autopilot, 'google_compute_router_nat');
    assert.equal(nat.source_subnetwork_ip_ranges_to_nat, 'ALL_SUBNETWORKS_ALL_IP_RANGES');
    assert.match(nat.router, /google_compute_router\.\w+\.name/);
  });

  for (const [mode, tf] of [
    ['autopilot', autopilot],
    ['standard', standard],
  ] as const) {
    it(`${mode}: GKE has private nodes, Workload Identity, VPC-native ranges, a dedicated node identity`, () => {
      const gke = one(tf, 'google_container_cluster');
      assert.equal(single(gke.private_cluster_config).enable_private_nodes, true);
      assert.equal(single(gke.workload_identity_config).workload_pool, 'acme-ml-prod.svc.id.goog');
      const ip = single(gke.ip_allocation_policy);
      assert.equal(ip.cluster_secondary_range_name, 'pods');
      assert.equal(ip.services_secondary_range_name, 'services');
      assert.equal(gke.deletion_protection, true);
      assert.match(gke.subnetwork, /google_compute_subnetwork/);
      const nodeAccount =
        mode === 'autopilot'
          ? single(single(gke.cluster_autoscaling).auto_provisioning_defaults).service_account
          : single(one(tf, 'google_container_node_pool').node_config).service_account;
      assert.match(nodeAccount, /google_service_account\.sa-gke-nodes\.email/);
    });
  }

  it('autopilot mode has no node pool; standard mode has an autoscaling, GKE-metadata node pool', () => {
    assert.equal(one(autopilot, 'google_container_cluster').enable_autopilot, true);
    assert.equal(resources(autopilot, 'google_container_node_pool').length, 0);
    const gke = one(standard, 'google_container_cluster');
    assert.equal(gke.enable_autopilot, undefined);
    assert.equal(gke.remove_default_node_pool, true);
    const pool = one(standard, 'google_container_node_pool');
    assert.deepEqual(single(pool.autoscaling), { min_node_count: 1, max_node_count: 4 });
    const node = single(pool.node_config);
    assert.equal(single(node.workload_metadata_config).mode, 'GKE_METADATA');
    assert.equal(single(node.shielded_instance_config).enable_secure_boot, true);
  });

  it('the bucket is private, uniform, versioned and has lifecycle rules', () => {
    const bucket = one(autopilot, 'google_storage_bucket');
    assert.equal(bucket.name, 'acme-ml-prod-gitops-ml');
    assert.equal(bucket.public_access_prevention, 'enforced');
    assert.equal(bucket.uniform_bucket_level_access, true);
    assert.equal(single(bucket.versioning).enabled, true);
    assert.equal(bucket.force_destroy, false);
    assert.ok(bucket.lifecycle_rule.length >= 2);
    assert.ok(bucket.lifecycle_rule.some((r: Json) => single(r.condition).days_since_noncurrent_time === 90));
  });

  it('the Artifact Registry repository holds Docker images under the GAR_REPOSITORY name', () => {
    const repo = one(autopilot, 'google_artifact_registry_repository');
    assert.equal(repo.format, 'DOCKER');
    assert.equal(repo.repository_id, 'gitops-ml');
    assert.equal(repo.location, 'europe-west1');
  });

  it('no member is public and no primitive role is granted anywhere', () => {
    const text = JSON.stringify(autopilot) + JSON.stringify(standard);
    assert.doesNotMatch(text, /allUsers|allAuthenticatedUsers/);
    assert.doesNotMatch(text, /"roles\/(owner|editor|viewer)"/);
    for (const tf of [autopilot, standard]) {
      for (const member of iamMembers(tf)) {
        assert.doesNotMatch(member.role, /^roles\/(owner|editor|viewer)$/, `${member.type} grants ${member.role}`);
      }
      assert.equal(
        resources(tf, 'google_project_iam_binding').length + resources(tf, 'google_project_iam_policy').length,
        0,
        'authoritative project IAM would wipe grants made outside this stack',
      );
    }
  });

  it('creates the service accounts the workflows and infra/k8s name', () => {
    const ids = resources(autopilot, 'google_service_account')
      .map((sa) => sa.account_id)
      .sort();
    assert.deepEqual(ids, [
      'api-runtime',
      'batch-runtime',
      'ci-deploy',
      'gke-nodes',
      'infra-apply',
      'infra-plan',
      'trainer',
      'trainer-runtime',
    ]);
  });

  it('api-runtime only reads the bucket; trainer administers objects of the bucket only', () => {
    const api = membersOf(autopilot, 'api-runtime').filter((m) => m.role !== 'roles/iam.workloadIdentityUser');
    assert.deepEqual(
      api.map((m) => [m.type, m.role]),
      [['google_storage_bucket_iam_member', 'roles/storage.objectViewer']],
    );
    assert.match(api[0].bucket, /google_storage_bucket\.bucket\.name/);
    const trainer = membersOf(autopilot, 'trainer').filter((m) => m.role !== 'roles/iam.workloadIdentityUser');
    assert.deepEqual(
      trainer.map((m) => [m.type, m.role]),
      [['google_storage_bucket_iam_member', 'roles/storage.objectAdmin']],
    );
  });

  it('batch-runtime reads the bucket and may only create objects under batch/', () => {
    const creator = membersOf(autopilot, 'batch-runtime').find((m) => m.role === 'roles/storage.objectCreator');
    assert.ok(creator, 'batch-runtime writes its output');
    assert.equal(
      single(creator.condition).expression,
      'resource.name.startsWith("projects/_/buckets/acme-ml-prod-gitops-ml/objects/batch/")',
    );
    assert.ok(membersOf(autopilot, 'batch-runtime').some((m) => m.role === 'roles/storage.objectViewer'));
  });

  it('ci-deploy pushes to the image repository, deploys to GKE and reads Managed Prometheus, nothing broader', () => {
    const roles = membersOf(autopilot, 'ci-deploy')
      .map((m) => `${m.type}:${m.role}`)
      .sort();
    assert.deepEqual(roles, [
      'google_artifact_registry_repository_iam_member:roles/artifactregistry.writer',
      'google_project_iam_member:roles/container.developer',
      'google_project_iam_member:roles/monitoring.viewer',
      'google_storage_bucket_iam_member:roles/storage.objectViewer',
    ]);
    const services = resources(autopilot, 'google_project_service').map((s) => s.service);
    assert.ok(services.includes('monitoring.googleapis.com'), 'the Managed Prometheus query API is enabled');
    assert.equal(
      autopilot.output.prometheus_url.value,
      'https://monitoring.googleapis.com/v1/projects/acme-ml-prod/location/global/prometheus',
    );
  });

  it('trainer-runtime (the trainer Job) reads the bucket and writes only dvc/ and registry/', () => {
    const roles = membersOf(autopilot, 'trainer-runtime').filter((m) => m.role !== 'roles/iam.workloadIdentityUser');
    assert.deepEqual(roles.map((m) => m.role).sort(), ['roles/storage.objectUser', 'roles/storage.objectViewer']);
    for (const m of roles) assert.match(m.bucket, /google_storage_bucket\.bucket\.name/);
    const user = roles.find((m) => m.role === 'roles/storage.objectUser')!;
    assert.equal(
      single(user.condition).expression,
      'resource.name.startsWith("projects/_/buckets/acme-ml-prod-gitops-ml/objects/dvc/") || resource.name.startsWith("projects/_/buckets/acme-ml-prod-gitops-ml/objects/registry/")',
    );
    assert.equal(
      single(roles.find((m) => m.role === 'roles/storage.objectViewer')!.condition ?? {}).expression,
      undefined,
      'reads (and lists) the whole bucket',
    );
  });

  it('binds the Kubernetes ServiceAccounts of every namespace by Workload Identity', () => {
    const bindings = resources(autopilot, 'google_service_account_iam_member').filter((m) =>
      m.member.includes('.svc.id.goog['),
    );
    const pairs = bindings.map((b) => `${b.member} -> ${b.service_account_id}`).sort();
    assert.deepEqual(pairs, [
      'serviceAccount:acme-ml-prod.svc.id.goog[flight-delay-staging/flight-delay-api] -> ${google_service_account.sa-api-runtime.name}',
      'serviceAccount:acme-ml-prod.svc.id.goog[flight-delay-staging/flight-delay-batch] -> ${google_service_account.sa-batch-runtime.name}',
      'serviceAccount:acme-ml-prod.svc.id.goog[flight-delay-staging/flight-delay-trainer] -> ${google_service_account.sa-trainer-runtime.name}',
      'serviceAccount:acme-ml-prod.svc.id.goog[flight-delay/flight-delay-api] -> ${google_service_account.sa-api-runtime.name}',
      'serviceAccount:acme-ml-prod.svc.id.goog[flight-delay/flight-delay-batch] -> ${google_service_account.sa-batch-runtime.name}',
      'serviceAccount:acme-ml-prod.svc.id.goog[flight-delay/flight-delay-trainer] -> ${google_service_account.sa-trainer-runtime.name}',
    ]);
    for (const b of bindings) assert.equal(b.role, 'roles/iam.workloadIdentityUser');
    for (const b of bindings) assert.ok(b.depends_on?.some((d: string) => d.startsWith('google_container_cluster.')));
  });

  it('GitHub federation accepts only the configured repository and lets it impersonate the CI accounts', () => {
    const provider = one(autopilot, 'google_iam_workload_identity_pool_provider');
    assert.equal(
      provider.attribute_condition,
      "assertion.repository == 'acme/gitops-ml' && assertion.repository_id == '123456'",
    );
    assert.equal(single(provider.oidc).issuer_uri, 'https://token.actions.githubusercontent.com');
    assert.equal(provider.attribute_mapping['attribute.repository'], 'assertion.repository');
    const federated = resources(autopilot, 'google_service_account_iam_member').filter((m) =>
      /^principal(Set)?:/.test(m.member),
    );
    const byAccount = Object.fromEntries(
      federated.map((m) => [m.service_account_id.match(/sa-([\w-]+)\.name/)[1], m.member]),
    );
    assert.deepEqual(Object.keys(byAccount).sort(), ['ci-deploy', 'infra-apply', 'infra-plan', 'trainer']);
    assert.match(byAccount.trainer, /^principalSet:.*\/attribute\.repository\/acme\/gitops-ml$/);
    assert.match(byAccount['infra-plan'], /\/subject\/repo:acme\/gitops-ml:pull_request$/);
    assert.match(byAccount['infra-apply'], /\/subject\/repo:acme\/gitops-ml:environment:infra-production$/);
    for (const m of federated) assert.equal(m.role, 'roles/iam.workloadIdentityUser');
  });

  it('the attribute condition omits the id check when no repository id is configured', () => {
    assert.equal(
      githubAttributeCondition({ githubRepository: 'o/r', githubRepositoryId: '' }),
      "assertion.repository == 'o/r'",
    );
  });

  it('outputs every value the workflows read from repository variables', () => {
    const expected = [
      'gcp_project',
      'gcp_region',
      'gcp_workload_identity_provider',
      'gcp_train_service_account',
      'gcp_deploy_service_account',
      'gcp_infra_plan_service_account',
      'gcp_infra_apply_service_account',
      'gcs_bucket',
      'registry_url',
      'gar_repository',
      'gke_cluster',
      'gke_location',
      'api_runtime_service_account',
      'batch_runtime_service_account',
      'trainer_runtime_service_account',
      'api_image',
      'trainer_image',
      'prometheus_url',
    ];
    for (const name of expected) assert.ok(autopilot.output?.[name], `output ${name} is missing`);
    assert.match(
      autopilot.output.gcp_workload_identity_provider.value,
      /google_iam_workload_identity_pool_provider\.[\w-]+\.name/,
    );
    assert.match(autopilot.output.gcs_bucket.value, /google_storage_bucket\.bucket\.name/);
    assert.match(autopilot.output.gke_location.value, /google_container_cluster\.cluster\.location/);
  });

  it('the plan identity only reads: objectViewer on the state bucket, viewer-level roles elsewhere; apply writes the state', () => {
    for (const tf of [autopilot, standard]) {
      const state = tf.terraform.backend.gcs.bucket;
      assert.equal(state, 'acme-ml-prod-tfstate');
      const onState = iamMembers(tf).filter((m) => m.type === 'google_storage_bucket_iam_member' && m.bucket === state);
      const rolesOnState = (accountId: string) =>
        onState.filter((m) => String(m.member).includes(`sa-${accountId}.`)).map((m) => m.role);
      // storage.objectViewer: objects.get and objects.list, no create (lock object, state) or delete.
      assert.deepEqual(rolesOnState('infra-plan'), ['roles/storage.objectViewer']);
      assert.deepEqual(rolesOnState('infra-apply'), ['roles/storage.objectUser'], 'apply writes state and the lock');
      assert.equal(onState.length, 2, 'nothing else may touch the state bucket');
      const plan = membersOf(tf, 'infra-plan').map((m) => `${m.type}:${m.role}`);
      assert.deepEqual(plan.sort(), [
        'google_project_iam_member:roles/artifactregistry.reader',
        'google_project_iam_member:roles/compute.viewer',
        'google_project_iam_member:roles/container.clusterViewer',
        'google_project_iam_member:roles/iam.securityReviewer',
        'google_project_iam_member:roles/iam.workloadIdentityPoolViewer',
        'google_project_iam_member:roles/serviceusage.serviceUsageViewer',
        'google_storage_bucket_iam_member:roles/storage.legacyBucketReader',
        'google_storage_bucket_iam_member:roles/storage.objectViewer',
      ]);
      for (const m of membersOf(tf, 'infra-plan')) {
        assert.match(m.role, /(viewer|Viewer|[rR]eader|securityReviewer)$/, `infra-plan holds ${m.role}`);
        assert.doesNotMatch(m.role, /admin|Admin|editor|owner|user|User|writer|Writer|creator|Creator/);
      }
    }
  });

  it('rejects invalid input with a message naming the field', () => {
    assert.throws(() => parseConfig({ ...CONFIG, clusterMode: 'serverless' }), /clusterMode/);
    assert.throws(() => parseConfig({ ...CONFIG, githubRepository: "o/r' || true" }), /githubRepository/);
    assert.throws(
      () => parseConfig({ ...CONFIG, nodePool: { ...CONFIG.nodePool, minNodes: 5, maxNodes: 2 } }),
      /minNodes must not exceed/,
    );
  });
});
