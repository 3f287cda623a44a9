/** Shared shapes of a rehearsal run. */
import type { Json } from './expr.ts';
import type { Denial } from '../testing/github/fake-github.ts';
import type { Permissions } from './permissions.ts';

export interface RehearsalEvent {
  name: string;
  payload: Record<string, Json>;
  ref: string;
  sha: string;
  actor: string;
  /** workflow_dispatch inputs (as strings, as GitHub passes them). */
  inputs?: Record<string, string>;
}

/**
 * The `github` context of a run (run.ts `githubContext`): the fields the runner itself reads are
 * strings; the rest (the event payload and so on) is JSON.
 */
export interface GithubContext {
  [key: string]: Json;
  event_path: string;
  ref: string;
  ref_name: string;
  sha: string;
  repository: string;
  repository_owner: string;
  head_ref: string;
  base_ref: string;
}

export interface Sandbox {
  root: string;
  /** The bare repository standing in for github.com/<repository>. */
  origin: string;
  repository: string;
  /** Directory of recorded stand-ins for external CLIs (first on PATH), and their dispatcher. */
  bin: string;
  stub: string;
  /** Installed node_modules that `npm ci` links. */
  nodeModules: string;
  /** JSON lines, one per stub call. */
  callLog: string;
  /** Artifact store shared by runs: <store>/<run id>/<artifact name>/. */
  artifacts: string;
  /** Loopback GitHub API. */
  apiUrl: string;
  /** Stand-in "cloud": buckets, registry pushes, cluster state. */
  cloud: string;
  /** git config used by every git call of the run (url rewrites to the bare origin). */
  gitConfig: string;
  /** `private` (the default): cloning needs a token with contents: read, as on GitHub. */
  visibility: 'private' | 'public';
  /**
   * A job starts: its GITHUB_TOKEN is granted `permissions` on the loopback API and becomes the
   * credential git pushes carry (the origin's pre-receive hook refuses a push without
   * contents: write). `endJob` revokes it, as GitHub expires a job's token when the job ends.
   */
  beginJob(job: { token: string; permissions: Permissions; holder: string }): void;
  endJob(token: string): void;
  /** The scopes of a token the sandbox granted, or undefined for any other string. */
  tokenPermissions(token: string): Permissions | undefined;
  /** Every API call the loopback GitHub refused for want of a scope. */
  denials: Denial[];
}

export interface StepResult {
  id: string;
  name: string;
  outcome: 'success' | 'failure' | 'skipped';
  conclusion: 'success' | 'failure' | 'skipped';
  outputs: Record<string, string>;
  error?: string;
}
export interface JobResult {
  id: string;
  result: 'success' | 'failure' | 'skipped';
  outputs: Record<string, string>;
  steps: StepResult[];
  error?: string;
}
export interface RunResult {
  workflow: string;
  event: string;
  /** The commit and ref the run was for (github.sha, github.ref). */
  sha: string;
  ref: string;
  runId: number;
  conclusion: 'success' | 'failure';
  jobs: JobResult[];
  failures: string[];
  summary: string;
  /** The run's concurrency group as evaluated, when the workflow has one. */
  concurrency?: { group: string; cancelInProgress: boolean };
}

/** One pinned action as `.github/actions.lock.json` records it (from the release's action.yml). */
export interface ActionPin {
  version: string;
  sha: string;
  runs: string;
  required: string[];
  inputs: Record<string, string | null>;
  outputs: string[];
}
