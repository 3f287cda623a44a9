/** Shared shapes of a rehearsal run. */
import type { Json } from './expr.ts';

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
  /** Set while a job runs: whether its token may write (permissions and fork PRs). */
  setTokenWritable(writable: boolean): void;
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
  runId: number;
  conclusion: 'success' | 'failure';
  jobs: JobResult[];
  failures: string[];
  summary: string;
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
