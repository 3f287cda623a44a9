/**
 * google-github-actions/auth (v3, src/main.ts): with Workload Identity Federation it needs the
 * job's OIDC token (`id-token: write`; fork PRs get none), writes the credentials file
 * `gha-creds-<16 hex>.json` into GITHUB_WORKSPACE (warning when the workspace is empty: "Did you
 * forget to use actions/checkout before this step?"), exports GOOGLE_APPLICATION_CREDENTIALS,
 * CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE, GOOGLE_GHA_CREDS_PATH and the project variables.
 * get-gke-credentials (v3): reads those credentials, writes `gha-kubeconfig-<16 hex>` into the
 * workspace, exports KUBECONFIG and KUBE_CONFIG_PATH. setup-gcloud (v3): puts gcloud on PATH (the
 * recorded stub is already there) and, with credentials, activates them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ActionFailure, inputBool, type ActionContext, type ActionResult } from './types.ts';

const hex = () => randomBytes(8).toString('hex');

export function projectFromServiceAccount(email: string): string | undefined {
  return /^[^@]+@([^.]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1];
}

export async function auth(ctx: ActionContext): Promise<ActionResult> {
  const provider = ctx.inputs.workload_identity_provider ?? '';
  const sa = ctx.inputs.service_account ?? '';
  if (!provider && !ctx.inputs.credentials_json)
    throw new ActionFailure(
      'the GitHub Action workflow must specify exactly one of "workload_identity_provider" or "credentials_json"! (empty: is the repository variable set?)',
    );
  if (provider) {
    if (!/^projects\/\d+\/locations\/global\/workloadIdentityPools\/[^/]+\/providers\/[^/]+$/.test(provider))
      throw new ActionFailure(
        `workload_identity_provider "${provider}" must be the full resource name projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`,
      );
    if (ctx.env.ACTIONS_ID_TOKEN_REQUEST_URL === undefined)
      throw new ActionFailure(
        'gha-creds: unable to get an OIDC token: the job needs "permissions: id-token: write" (and fork pull requests never get one)',
      );
  }
  const out: ActionResult = { outputs: {}, env: {} };
  if (inputBool({ ...ctx, inputs: { c: ctx.inputs.create_credentials_file ?? 'true' } }, 'c')) {
    if ((await readdir(ctx.workspace)).length === 0)
      ctx.log(
        '⚠️ The "create_credentials_file" option is true, but the current GitHub workspace is empty. Did you forget to use "actions/checkout" before this step?',
      );
    const path = join(ctx.workspace, `gha-creds-${hex()}.json`);
    await writeFile(
      path,
      JSON.stringify({
        type: 'external_account',
        audience: `//iam.googleapis.com/${provider}`,
        service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${sa}:generateAccessToken`,
        rehearsal: true,
      }),
      { mode: 0o640 },
    );
    ctx.log(`Created credentials file at "${path}"`);
    out.outputs!.credentials_file_path = path;
    if (inputBool({ ...ctx, inputs: { e: ctx.inputs.export_environment_variables ?? 'true' } }, 'e')) {
      Object.assign(out.env!, {
        CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE: path,
        GOOGLE_APPLICATION_CREDENTIALS: path,
        GOOGLE_GHA_CREDS_PATH: path,
      });
    }
  }
  const project = ctx.inputs.project_id || projectFromServiceAccount(sa);
  if (project) {
    out.outputs!.project_id = project;
    for (const k of [
      'CLOUDSDK_CORE_PROJECT',
      'CLOUDSDK_PROJECT',
      'GCLOUD_PROJECT',
      'GCP_PROJECT',
      'GOOGLE_CLOUD_PROJECT',
    ])
      out.env![k] = project;
  } else ctx.log('⚠️ Failed to compute a project ID from the given inputs.');
  return out;
}

async function credentials(ctx: ActionContext): Promise<string> {
  const path = ctx.env.GOOGLE_GHA_CREDS_PATH || ctx.env.GOOGLE_APPLICATION_CREDENTIALS;
  if (!path)
    throw new ActionFailure('Could not load the default credentials: run google-github-actions/auth before this step');
  if (!existsSync(path))
    throw new ActionFailure(
      `Could not load the default credentials: ${path} does not exist (was the workspace emptied after auth? run actions/checkout before auth)`,
    );
  return readFile(path, 'utf8');
}

export async function getGkeCredentials(ctx: ActionContext): Promise<ActionResult> {
  const cluster = ctx.inputs.cluster_name ?? '';
  if (!cluster) throw new ActionFailure('Input required and not supplied: cluster_name');
  const full = /^projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/.exec(cluster);
  const project = ctx.inputs.project_id || full?.[1] || ctx.env.GCLOUD_PROJECT;
  if (!project)
    throw new ActionFailure(
      'Failed to extract project ID, please set the "project_id" input, set $GCLOUD_PROJECT, or specify the cluster name as a full resource name.',
    );
  const location = ctx.inputs.location || full?.[2];
  if (!location)
    throw new ActionFailure(
      'Failed to extract location, please set the "location" input or specify the cluster name as a full resource name.',
    );
  await credentials(ctx);
  const id = full?.[3] ?? cluster;
  const context = ctx.inputs.context_name || `gke_${project}_${location}_${id}`;
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${context}`,
    'clusters:',
    `- name: ${context}`,
    '  cluster:',
    `    server: https://rehearsal.invalid/${project}/${location}/${id}`,
    'contexts:',
    `- name: ${context}`,
    '  context:',
    `    cluster: ${context}`,
    `    user: ${context}`,
    ...(ctx.inputs.namespace ? [`    namespace: ${ctx.inputs.namespace}`] : []),
    'users:',
    `- name: ${context}`,
    '  user:',
    '    token: rehearsal',
    '',
  ].join('\n');
  const path = join(ctx.workspace, `gha-kubeconfig-${hex()}`);
  await writeFile(path, kubeconfig);
  await chmod(path, 0o600);
  ctx.log(`Successfully created and exported "KUBECONFIG" at: ${path}`);
  return { outputs: { kubeconfig_path: path }, env: { KUBECONFIG: path, KUBE_CONFIG_PATH: path } };
}

export async function setupGcloud(ctx: ActionContext): Promise<ActionResult> {
  if (ctx.env.GOOGLE_GHA_CREDS_PATH) await credentials(ctx);
  ctx.log(`gcloud: the recorded stub in ${ctx.sandbox.bin}`);
  return { path: [ctx.sandbox.bin] };
}
