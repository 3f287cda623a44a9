/**
 * Where the report goes on GitHub: one sticky comment per PR (edited in place, never duplicated),
 * a comment on the commit for pushes, and the job summary. A fork PR's token cannot write; that is
 * an expected outcome (the workflow_run job posts instead), not a crash.
 */
import { appendFile } from 'node:fs/promises';
import { EOL } from 'node:os';
import * as core from '@actions/core';
import { getOctokit } from '@actions/github';

export type Octokit = ReturnType<typeof getOctokit>;

export const DEFAULT_BOT_LOGIN = 'github-actions[bot]';
export const READ_ONLY_MESSAGE = 'read-only token: cannot comment; the workflow_run job posts instead';

export type PublishResult =
  { status: 'created' | 'updated'; id: number; url: string } | { status: 'read-only'; message: string };

export interface RepoRef {
  owner: string;
  repo: string;
}

export function parseRepository(fullName: string | undefined): RepoRef {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(fullName ?? '');
  if (!m) throw new Error(`GITHUB_REPOSITORY must be "owner/name", got ${JSON.stringify(fullName ?? '')}`);
  return { owner: m[1], repo: m[2] };
}

/** `baseUrl` is GITHUB_API_URL (GitHub Enterprise, or the loopback server in tests). */
export function makeOctokit(token: string, baseUrl?: string): Octokit {
  if (!token)
    throw new Error('GITHUB_TOKEN is empty: pass `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` to the step');
  return getOctokit(token, baseUrl ? { baseUrl } : {});
}

function isReadOnly(err: unknown): boolean {
  const e = err as { status?: number; message?: string };
  return (
    e?.status === 403 && /not accessible by integration|must have (push|write) access|read-only/i.test(e.message ?? '')
  );
}

async function writeOrReadOnly<T extends { id: number; html_url: string }>(
  status: 'created' | 'updated',
  call: () => Promise<{ data: T }>,
): Promise<PublishResult> {
  try {
    const { data } = await call();
    return { status, id: data.id, url: data.html_url };
  } catch (err) {
    if (isReadOnly(err)) return { status: 'read-only', message: READ_ONLY_MESSAGE };
    throw err;
  }
}

export interface StickyOptions extends RepoRef {
  issueNumber: number;
  body: string;
  /** Text our comment carries, or a test of a comment's body (e.g. our marker or CML's watermark). */
  marker: string | ((body: string) => boolean);
  /** Only a comment by this login is ours to edit; anyone can paste the marker. */
  botLogin?: string;
}

export async function upsertStickyComment(octokit: Octokit, o: StickyOptions): Promise<PublishResult> {
  const botLogin = o.botLogin ?? DEFAULT_BOT_LOGIN;
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: o.owner,
    repo: o.repo,
    issue_number: o.issueNumber,
    per_page: 100,
  });
  const existing = lastMatching(comments, o.marker, botLogin);
  if (existing) {
    return writeOrReadOnly('updated', () =>
      octokit.rest.issues.updateComment({ owner: o.owner, repo: o.repo, comment_id: existing.id, body: o.body }),
    );
  }
  return writeOrReadOnly('created', () =>
    octokit.rest.issues.createComment({ owner: o.owner, repo: o.repo, issue_number: o.issueNumber, body: o.body }),
  );
}

function lastMatching<C extends { user?: { login?: string } | null; body?: string | null }>(
  comments: C[],
  marker: StickyOptions['marker'],
  botLogin: string,
): C | undefined {
  const matches = typeof marker === 'string' ? (body: string) => body.includes(marker) : marker;
  return comments.filter((c) => c.user?.login === botLogin && matches(c.body ?? '')).at(-1);
}

/** The commit's comment that `marker` matches (by `botLogin`) is edited; else a new one is created. */
export async function upsertCommitComment(
  octokit: Octokit,
  o: RepoRef & { sha: string; body: string; marker: StickyOptions['marker']; botLogin?: string },
): Promise<PublishResult> {
  const comments = await octokit.paginate(octokit.rest.repos.listCommentsForCommit, {
    owner: o.owner,
    repo: o.repo,
    commit_sha: o.sha,
    per_page: 100,
  });
  const existing = lastMatching(comments, o.marker, o.botLogin ?? DEFAULT_BOT_LOGIN);
  if (existing)
    return writeOrReadOnly('updated', () =>
      octokit.rest.repos.updateCommitComment({ owner: o.owner, repo: o.repo, comment_id: existing.id, body: o.body }),
    );
  return createCommitComment(octokit, o);
}

export async function createCommitComment(
  octokit: Octokit,
  o: RepoRef & { sha: string; body: string },
): Promise<PublishResult> {
  return writeOrReadOnly('created', () =>
    octokit.rest.repos.createCommitComment({ owner: o.owner, repo: o.repo, commit_sha: o.sha, body: o.body }),
  );
}

/**
 * Append to the job summary (`GITHUB_STEP_SUMMARY`). Returns false when there is no summary file
 * (a local run), so callers can say so instead of failing.
 */
export async function writeJobSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return false;
  // @actions/core only knows process.env (and caches the path); an injected env writes directly.
  if (file === process.env.GITHUB_STEP_SUMMARY) await core.summary.emptyBuffer().addRaw(markdown, true).write();
  else await appendFile(file, markdown + EOL);
  return true;
}
