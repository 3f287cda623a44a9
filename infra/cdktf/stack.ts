// The whole GCP footprint of gitops-ml as one Terraform stack (one state, one plan to review).
import { Construct } from 'constructs';
import { GcsBackend, TerraformOutput, TerraformStack } from 'cdktf';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider/index.js';
import { ProjectService } from '@cdktf/provider-google/lib/project-service/index.js';
import type { StackConfig } from './config.ts';
import { bucket, cluster, imageRepository, network } from './platform.ts';
import { githubFederation, grants, kubernetesBindings, serviceAccounts } from './identity.ts';
import { imageName } from '../deploy/render.ts';

export const STACK_NAME = 'gitops-ml';

const SERVICES = [
  'compute.googleapis.com',
  'container.googleapis.com',
  'artifactregistry.googleapis.com',
  'storage.googleapis.com',
  'iam.googleapis.com',
  'iamcredentials.googleapis.com',
  'sts.googleapis.com',
  'cloudresourcemanager.googleapis.com',
  'serviceusage.googleapis.com',
  'monitoring.googleapis.com', // Managed Prometheus query API (canary analysis)
];

export class GitopsMlStack extends TerraformStack {
  constructor(scope: Construct, id: string, config: StackConfig) {
    super(scope, id);
    new GcsBackend(this, { bucket: config.stateBucket, prefix: config.statePrefix });
    new GoogleProvider(this, 'google', {
      project: config.projectId,
      region: config.region,
      defaultLabels: { 'managed-by': 'cdktf', app: 'gitops-ml' },
    });

    const services = SERVICES.map(
      (service) =>
        new ProjectService(this, `api-${service.split('.')[0]}`, {
          project: config.projectId,
          service,
          // Turning an API off on destroy would break anything else in the project using it.
          disableOnDestroy: false,
        }),
    );

    const net = network(this, config, services);
    const data = bucket(this, config, services);
    const images = imageRepository(this, config, services);
    const accounts = serviceAccounts(this, services);
    const gke = cluster(this, config, net, accounts.gkeNodes.email);
    grants(this, config, accounts, { bucket: data, images });
    kubernetesBindings(this, config, accounts, gke);
    const github = githubFederation(this, config, accounts, services);

    const at = { region: config.region, project: config.projectId, repository: images.repositoryId };
    // Named after the repository variables the workflows read (lower-cased); see docs/deploy.md.
    const outputs: Record<string, { value: string; description: string }> = {
      gcp_project: { value: config.projectId, description: 'vars.GCP_PROJECT' },
      gcp_region: { value: config.region, description: 'vars.GCP_REGION' },
      gcp_workload_identity_provider: {
        value: github.provider.name,
        description: 'vars.GCP_WORKLOAD_IDENTITY_PROVIDER (google-github-actions/auth workload_identity_provider)',
      },
      gcp_train_service_account: {
        value: accounts.trainer.email,
        description: 'vars.GCP_TRAIN_SERVICE_ACCOUNT (train.yml)',
      },
      gcp_deploy_service_account: {
        value: accounts.ciDeploy.email,
        description: 'vars.GCP_DEPLOY_SERVICE_ACCOUNT (deploy-api.yml)',
      },
      gcp_infra_plan_service_account: {
        value: accounts.infraPlan.email,
        description: 'vars.GCP_INFRA_PLAN_SERVICE_ACCOUNT (infra.yml plan)',
      },
      gcp_infra_apply_service_account: {
        value: accounts.infraApply.email,
        description: 'vars.GCP_INFRA_APPLY_SERVICE_ACCOUNT (infra.yml apply)',
      },
      gcs_bucket: {
        value: data.name,
        description: 'vars.GCS_BUCKET (DVC remote gs://BUCKET/dvc, registry gs://BUCKET/registry)',
      },
      registry_url: {
        value: `gs://${data.name}/registry`,
        description: 'vars.REGISTRY_URL (optional; this is the default)',
      },
      gar_repository: { value: images.repositoryId, description: 'vars.GAR_REPOSITORY' },
      image_repository_url: {
        value: `${config.region}-docker.pkg.dev/${config.projectId}/${images.repositoryId}`,
        description: 'the Artifact Registry repository of both images',
      },
      api_image: {
        value: imageName('api', at),
        description: 'the API image deploy-api.yml pushes and infra/deploy sets on the pods (by digest)',
      },
      trainer_image: {
        value: imageName('trainer', at),
        description: 'the trainer image trainer-image.yml pushes (infra/k8s/jobs)',
      },
      prometheus_url: {
        value: `https://monitoring.googleapis.com/v1/projects/${config.projectId}/location/global/prometheus`,
        description:
          'vars.PROMETHEUS_URL: Managed Prometheus query API for the canary analysis (ci-deploy has monitoring.viewer)',
      },
      gke_cluster: { value: gke.name, description: 'vars.GKE_CLUSTER' },
      gke_location: { value: gke.location, description: 'vars.GKE_LOCATION' },
      api_runtime_service_account: {
        value: accounts.apiRuntime.email,
        description: 'iam.gke.io/gcp-service-account of flight-delay-api',
      },
      batch_runtime_service_account: {
        value: accounts.batchRuntime.email,
        description: 'iam.gke.io/gcp-service-account of flight-delay-batch',
      },
      trainer_runtime_service_account: {
        value: accounts.trainerRuntime.email,
        description: 'iam.gke.io/gcp-service-account of flight-delay-trainer',
      },
    };
    for (const [name, output] of Object.entries(outputs)) new TerraformOutput(this, name, output);
  }
}
