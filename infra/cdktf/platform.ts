// Network, cluster, bucket and image registry: the places things run and live.
import { Construct } from 'constructs';
import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network/index.js';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork/index.js';
import { ComputeRouter } from '@cdktf/provider-google/lib/compute-router/index.js';
import { ComputeRouterNat } from '@cdktf/provider-google/lib/compute-router-nat/index.js';
import { ContainerCluster } from '@cdktf/provider-google/lib/container-cluster/index.js';
import { ContainerNodePool } from '@cdktf/provider-google/lib/container-node-pool/index.js';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket/index.js';
import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository/index.js';
import type { ITerraformDependable } from 'cdktf';
import type { StackConfig } from './config.ts';

export const PODS_RANGE = 'pods';
export const SERVICES_RANGE = 'services';

export function network(scope: Construct, config: StackConfig, dependsOn: ITerraformDependable[]) {
  const vpc = new ComputeNetwork(scope, 'vpc', {
    name: config.network.name,
    autoCreateSubnetworks: false,
    routingMode: 'REGIONAL',
    dependsOn,
  });
  const subnet = new ComputeSubnetwork(scope, 'subnet', {
    name: `${config.network.name}-${config.region}`,
    network: vpc.id,
    region: config.region,
    ipCidrRange: config.network.subnetCidr,
    // Private nodes reach Google APIs (GCS, Artifact Registry) without public IPs.
    privateIpGoogleAccess: true,
    secondaryIpRange: [
      { rangeName: PODS_RANGE, ipCidrRange: config.network.podsCidr },
      { rangeName: SERVICES_RANGE, ipCidrRange: config.network.servicesCidr },
    ],
    logConfig: { aggregationInterval: 'INTERVAL_10_MIN', flowSampling: 0.5, metadata: 'INCLUDE_ALL_METADATA' },
  });
  const router = new ComputeRouter(scope, 'router', {
    name: `${config.network.name}-router`,
    network: vpc.id,
    region: config.region,
  });
  // Egress for private nodes (pulling public images, reaching GitHub) without node public IPs.
  new ComputeRouterNat(scope, 'nat', {
    name: `${config.network.name}-nat`,
    router: router.name,
    region: config.region,
    natIpAllocateOption: 'AUTO_ONLY',
    sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES',
    logConfig: { enable: true, filter: 'ERRORS_ONLY' },
  });
  return { vpc, subnet };
}

export function cluster(
  scope: Construct,
  config: StackConfig,
  net: { vpc: ComputeNetwork; subnet: ComputeSubnetwork },
  nodeServiceAccountEmail: string,
) {
  const autopilot = config.clusterMode === 'autopilot';
  const gke = new ContainerCluster(scope, 'cluster', {
    name: config.clusterName,
    location: config.region,
    network: net.vpc.id,
    subnetwork: net.subnet.id,
    deletionProtection: config.deletionProtection,
    releaseChannel: { channel: 'REGULAR' },
    ipAllocationPolicy: { clusterSecondaryRangeName: PODS_RANGE, servicesSecondaryRangeName: SERVICES_RANGE },
    privateClusterConfig: {
      enablePrivateNodes: true,
      // The endpoint stays reachable so GitHub-hosted runners can deploy; access still needs IAM.
      enablePrivateEndpoint: false,
      masterIpv4CidrBlock: config.network.masterCidr,
    },
    ...(config.masterAuthorizedNetworks.length > 0
      ? {
          masterAuthorizedNetworksConfig: {
            cidrBlocks: config.masterAuthorizedNetworks.map((cidrBlock) => ({ cidrBlock, displayName: cidrBlock })),
          },
        }
      : {}),
    workloadIdentityConfig: { workloadPool: `${config.projectId}.svc.id.goog` },
    ...(autopilot
      ? {
          enableAutopilot: true,
          clusterAutoscaling: {
            autoProvisioningDefaults: {
              serviceAccount: nodeServiceAccountEmail,
              oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
            },
          },
        }
      : {
          // The default pool cannot be configured well; replace it with the managed pool below.
          removeDefaultNodePool: true,
          initialNodeCount: 1,
          enableShieldedNodes: true,
          datapathProvider: 'ADVANCED_DATAPATH',
          nodeConfig: { serviceAccount: nodeServiceAccountEmail },
        }),
  });
  if (!autopilot) {
    new ContainerNodePool(scope, 'node-pool', {
      name: 'default',
      cluster: gke.id,
      location: config.region,
      autoscaling: { minNodeCount: config.nodePool.minNodes, maxNodeCount: config.nodePool.maxNodes },
      management: { autoRepair: true, autoUpgrade: true },
      nodeConfig: {
        machineType: config.nodePool.machineType,
        diskSizeGb: config.nodePool.diskSizeGb,
        spot: config.nodePool.spot,
        serviceAccount: nodeServiceAccountEmail,
        oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
        workloadMetadataConfig: { mode: 'GKE_METADATA' },
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        metadata: { 'disable-legacy-endpoints': 'true' },
      },
    });
  }
  return gke;
}

export function bucket(scope: Construct, config: StackConfig, dependsOn: ITerraformDependable[]) {
  return new StorageBucket(scope, 'bucket', {
    name: config.bucketName,
    location: config.bucketLocation,
    uniformBucketLevelAccess: true,
    publicAccessPrevention: 'enforced',
    // The registry's stage pointers are overwritten in place; versions keep every earlier pointer.
    versioning: { enabled: true },
    forceDestroy: false,
    lifecycleRule: [
      {
        action: { type: 'Delete' },
        condition: { daysSinceNoncurrentTime: config.noncurrentVersionDays, withState: 'ARCHIVED' },
      },
      { action: { type: 'Delete' }, condition: { numNewerVersions: 10, withState: 'ARCHIVED' } },
      { action: { type: 'AbortIncompleteMultipartUpload' }, condition: { age: 7 } },
    ],
    dependsOn,
  });
}

export function imageRepository(scope: Construct, config: StackConfig, dependsOn: ITerraformDependable[]) {
  return new ArtifactRegistryRepository(scope, 'images', {
    repositoryId: config.artifactRepository,
    location: config.region,
    format: 'DOCKER',
    description: 'Container images of the gitops-ml inference API',
    cleanupPolicies: [
      { id: 'keep-recent', action: 'KEEP', mostRecentVersions: { keepCount: 30 } },
      { id: 'drop-old-untagged', action: 'DELETE', condition: { tagState: 'UNTAGGED', olderThan: '2592000s' } },
    ],
    dependsOn,
  });
}
