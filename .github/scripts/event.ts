/**
 * The GitHub event that started this workflow run, reduced to what the scripts act on. GitHub
 * names the event in `GITHUB_EVENT_NAME` and writes its webhook payload to `GITHUB_EVENT_PATH`;
 * both are passed in so tests can use fixture payloads.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

export type CiEvent =
  | { kind: 'push'; branch: string | null; tag: string | null; sha: string; before: string; botCommit: boolean }
  | { kind: 'pull_request'; number: number; headSha: string; baseRef: string; headRepo: string; fork: boolean }
  | { kind: 'schedule'; cron: string | null; sha: string | null }
  | { kind: 'workflow_dispatch'; ref: string | null; inputs: Record<string, string> }
  | { kind: 'repository_dispatch'; action: string; clientPayload: Record<string, unknown> }
  | {
      kind: 'workflow_run';
      workflow: string;
      conclusion: string | null;
      prNumber: number | null;
      headSha: string;
      headBranch: string | null;
      fromFork: boolean;
    };

export const SUPPORTED_EVENTS = [
  'push',
  'pull_request',
  'pull_request_target',
  'schedule',
  'workflow_dispatch',
  'repository_dispatch',
  'workflow_run',
] as const;

const BOT_LOGINS = /\[bot\]$|^github-actions$/;

const repo = z.object({ full_name: z.string() }).passthrough();
const pushPayload = z
  .object({
    ref: z.string(),
    after: z.string(),
    before: z.string(),
    head_commit: z
      .object({
        message: z.string().optional(),
        author: z.object({ name: z.string().optional(), username: z.string().optional() }).passthrough().optional(),
      })
      .passthrough()
      .nullable()
      .optional(),
    sender: z.object({ login: z.string(), type: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();
const prPayload = z
  .object({
    number: z.number().int(),
    pull_request: z
      .object({
        head: z.object({ sha: z.string(), ref: z.string(), repo: repo.nullable() }).passthrough(),
        base: z.object({ ref: z.string(), repo }).passthrough(),
      })
      .passthrough(),
    repository: repo.optional(),
  })
  .passthrough();
const dispatchPayload = z
  .object({ ref: z.string().optional(), inputs: z.record(z.string(), z.unknown()).nullable().optional() })
  .passthrough();
const repoDispatchPayload = z
  .object({ action: z.string(), client_payload: z.record(z.string(), z.unknown()).nullable().optional() })
  .passthrough();
const runPayload = z
  .object({
    workflow_run: z
      .object({
        name: z.string().optional(),
        conclusion: z.string().nullable().optional(),
        head_sha: z.string(),
        head_branch: z.string().nullable().optional(),
        event: z.string().optional(),
        pull_requests: z.array(z.object({ number: z.number().int() }).passthrough()).default([]),
        head_repository: repo.nullable().optional(),
        repository: repo.optional(),
      })
      .passthrough(),
    workflow: z.object({ name: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();
const schedulePayload = z.object({ schedule: z.string().optional() }).passthrough();

function parseWith<T>(schema: z.ZodType<T>, name: string, payload: unknown): T {
  const r = schema.safeParse(payload);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  throw new Error(
    `${name} event payload is missing \`${first?.path.join('.') || '(root)'}\` (${first?.message}); is GITHUB_EVENT_PATH the payload of a ${name} event?`,
  );
}

/**
 * Fork PRs get `workflow_run.pull_requests: []` from GitHub (the PR lives in another repository),
 * so the number may be handed over another way: `prNumberHint` (e.g. read from an artifact the
 * triggering run uploaded).
 */
export function parseEvent(
  name: string,
  payload: unknown,
  env: { GITHUB_SHA?: string; PR_NUMBER?: string } = {},
): CiEvent {
  switch (name) {
    case 'push': {
      const p = parseWith(pushPayload, name, payload);
      const branch = p.ref.startsWith('refs/heads/') ? p.ref.slice('refs/heads/'.length) : null;
      const tag = p.ref.startsWith('refs/tags/') ? p.ref.slice('refs/tags/'.length) : null;
      const author = p.head_commit?.author?.username ?? p.head_commit?.author?.name ?? '';
      const botCommit = BOT_LOGINS.test(p.sender?.login ?? '') || p.sender?.type === 'Bot' || BOT_LOGINS.test(author);
      return { kind: 'push', branch, tag, sha: p.after, before: p.before, botCommit };
    }
    case 'pull_request':
    case 'pull_request_target': {
      const p = parseWith(prPayload, name, payload);
      const base = p.pull_request.base.repo.full_name;
      const headRepo = p.pull_request.head.repo?.full_name ?? '(deleted fork)';
      return {
        kind: 'pull_request',
        number: p.number,
        headSha: p.pull_request.head.sha,
        baseRef: p.pull_request.base.ref,
        headRepo,
        fork: headRepo !== base,
      };
    }
    case 'schedule': {
      const p = parseWith(schedulePayload, name, payload ?? {});
      return { kind: 'schedule', cron: p.schedule ?? null, sha: env.GITHUB_SHA ?? null };
    }
    case 'workflow_dispatch': {
      const p = parseWith(dispatchPayload, name, payload);
      const inputs: Record<string, string> = {};
      for (const [k, v] of Object.entries(p.inputs ?? {})) inputs[k] = typeof v === 'string' ? v : JSON.stringify(v);
      return { kind: 'workflow_dispatch', ref: p.ref ?? null, inputs };
    }
    case 'repository_dispatch': {
      const p = parseWith(repoDispatchPayload, name, payload);
      return { kind: 'repository_dispatch', action: p.action, clientPayload: p.client_payload ?? {} };
    }
    case 'workflow_run': {
      const run = parseWith(runPayload, name, payload).workflow_run;
      const hint = env.PR_NUMBER && /^[1-9][0-9]*$/.test(env.PR_NUMBER) ? Number(env.PR_NUMBER) : null;
      const headRepo = run.head_repository?.full_name;
      const baseRepo = run.repository?.full_name;
      return {
        kind: 'workflow_run',
        workflow: run.name ?? (payload as { workflow?: { name?: string } }).workflow?.name ?? '',
        conclusion: run.conclusion ?? null,
        prNumber: run.pull_requests[0]?.number ?? hint,
        headSha: run.head_sha,
        headBranch: run.head_branch ?? null,
        fromFork: Boolean(headRepo && baseRepo && headRepo !== baseRepo),
      };
    }
    default:
      throw new Error(
        `unsupported GitHub event "${name}": these scripts handle ${SUPPORTED_EVENTS.join(', ')}; add the event to .github/scripts/event.ts or stop the workflow from calling them on it`,
      );
  }
}

export interface EventSource {
  GITHUB_EVENT_NAME?: string;
  GITHUB_EVENT_PATH?: string;
  GITHUB_SHA?: string;
  PR_NUMBER?: string;
}

/** Read the event GitHub describes in the environment. */
export async function readEvent(
  env: EventSource = process.env,
  read: (path: string) => Promise<string> = (p) => readFile(p, 'utf8'),
): Promise<CiEvent> {
  const name = env.GITHUB_EVENT_NAME;
  if (!name)
    throw new Error(
      'GITHUB_EVENT_NAME is not set: run inside GitHub Actions, or set it and GITHUB_EVENT_PATH (a webhook payload JSON) yourself',
    );
  let payload: unknown = {};
  if (env.GITHUB_EVENT_PATH) {
    const text = await read(env.GITHUB_EVENT_PATH);
    try {
      payload = JSON.parse(text);
    } catch (err) {
      throw new Error(`GITHUB_EVENT_PATH ${env.GITHUB_EVENT_PATH} is not JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  } else if (name !== 'schedule') {
    throw new Error(`GITHUB_EVENT_PATH is not set: the ${name} event needs its payload file`);
  }
  return parseEvent(name, payload, env);
}
