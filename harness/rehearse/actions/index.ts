/** The stand-in for each pinned action, by `owner/name`. */
import { downloadArtifact, uploadArtifact } from './artifacts.ts';
import { checkout } from './checkout.ts';
import { githubScript } from './github-script.ts';
import { auth, getGkeCredentials, setupGcloud } from './google.ts';
import { setupNode, setupTerraform } from './setup.ts';
import type { StandIn } from './types.ts';

export const STAND_INS: Record<string, StandIn> = {
  'actions/checkout': checkout,
  'actions/setup-node': setupNode,
  'actions/upload-artifact': uploadArtifact,
  'actions/download-artifact': downloadArtifact,
  'actions/github-script': githubScript,
  'google-github-actions/auth': auth,
  'google-github-actions/get-gke-credentials': getGkeCredentials,
  'google-github-actions/setup-gcloud': setupGcloud,
  'hashicorp/setup-terraform': setupTerraform,
};

/** Actions whose stand-in writes into GITHUB_WORKSPACE (so they must come after checkout). */
export const WRITES_WORKSPACE = new Set([
  'google-github-actions/auth',
  'google-github-actions/get-gke-credentials',
  'actions/download-artifact',
]);
