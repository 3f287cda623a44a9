/**
 * A workflow run: the event must trigger the workflow (its `on:` filters); what GitHub checks
 * before any job starts (dispatch inputs, the concurrency group, runs-on labels) and the mistakes
 * it lets through silently (preflight.ts) stop the run first; then the jobs run in `needs` order;
 * a job whose needs did not all succeed is skipped unless its `if:` uses a status function; a
 * matrix expands into one job per combination. The result names every failed job and step.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { evaluateIf, evaluateToken, toText, type ExprContext, type Json } from './expr.ts';
import { runJob } from './job.ts';
import {
  anotherEvent,
  checkConcurrency,
  dispatchInputs,
  pipefailProblems,
  referenceProblems,
  staticRunsOnProblems,
} from './preflight.ts';
import type { SelfHostedRunner } from './runners.ts';
import { REPOSITORY_ID, REPOSITORY_OWNER_ID } from './sandbox.ts';
import type { JobModel, WorkflowModel } from './workflow.ts';
import type { ActionPin, GithubContext, JobResult, RehearsalEvent, RunResult, Sandbox } from './types.ts';

export interface RunInput {
  workflow: WorkflowModel;
  event: RehearsalEvent;
  sandbox: Sandbox;
  runId: number;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  lock: Record<string, ActionPin>;
  /** PATH of this machine and the rehearsal's own knobs (REHEARSE_NPM_RECORD…): nothing else reaches a step. */
  hostEnv: Record<string, string>;
  /** The repository's self-hosted runners (none: only GitHub-hosted labels exist). */
  selfHosted?: SelfHostedRunner[];
  print: (line: string) => void;
}

const globRe = (g: string) =>
  new RegExp(
    `^${g
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      // One pass, so no placeholder: `**` before `*`.
      .replace(/\*\*|\*/g, (m) => (m === '**' ? '.*' : '[^/]*'))}$`,
  );

/** Why the event does not trigger the workflow, or null when it does. Path filters are checked against `changedFiles` when given. */
export function triggerMismatch(wf: WorkflowModel, event: RehearsalEvent, changedFiles?: string[]): string | null {
  const on = wf.events as Record<string, Record<string, unknown> | unknown[] | null>;
  if (!(event.name in on)) return `${wf.file} does not run on ${event.name} (on: ${Object.keys(on).join(', ')})`;
  const f = (on[event.name] ?? {}) as Record<string, string[] | undefined>;
  const p = event.payload;
  // Webhook payloads carry their activity type as a string (`opened`, `completed`…), or none.
  const action = p.action as string | undefined;
  const types = f.types;
  if (types && !types.includes(String(action)))
    return `${event.name} type ${action} is not in types: ${types.join(', ')}`;
  // A push of a tag matches only `tags:` filters, of a branch only `branches:` ones; with one
  // kind of filter alone, GitHub does not run the workflow for the other kind of ref.
  if (event.name === 'push' && event.ref.startsWith('refs/tags/')) {
    const tag = event.ref.slice('refs/tags/'.length);
    if (!f.tags) return f.branches ? `a tag push (${tag}); the workflow filters branches only` : null;
    return f.tags.some((t) => globRe(t).test(tag)) ? null : `tag ${tag} is not in tags: ${f.tags.join(', ')}`;
  }
  if (event.name === 'push' && f.tags && !f.branches) return `a branch push; the workflow filters tags only`;
  const branch =
    event.name === 'pull_request'
      ? String((p.pull_request as { base?: { ref?: string } })?.base?.ref ?? '')
      : event.ref.replace(/^refs\/heads\//, '');
  if (f.branches && !f.branches.some((b) => globRe(b).test(branch)))
    return `branch ${branch} is not in branches: ${f.branches.join(', ')}`;
  if (event.name === 'workflow_run') {
    const name = String((p.workflow_run as { name?: string })?.name ?? '');
    if (f.workflows && !f.workflows.includes(name))
      return `workflow_run of "${name}", the workflow listens to ${f.workflows.join(', ')}`;
  }
  if (f.paths && changedFiles && !changedFiles.some((c) => f.paths!.some((g) => globRe(g).test(c))))
    return `no changed file matches paths: ${f.paths.join(', ')}`;
  return null;
}

export function githubContext(
  wf: WorkflowModel,
  event: RehearsalEvent,
  runId: number,
  eventPath: string,
  repository: string,
): GithubContext {
  const pr = event.payload.pull_request as { head?: { ref?: string }; base?: { ref?: string } } | undefined;
  return {
    event_name: event.name,
    event: event.payload,
    event_path: eventPath,
    ref: event.ref,
    ref_name: event.ref.replace(/^refs\/(heads|tags)\//, '').replace(/^refs\/pull\/(\d+)\/merge$/, '$1/merge'),
    ref_type: event.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    sha: event.sha,
    repository,
    repository_id: REPOSITORY_ID,
    repository_owner: repository.split('/')[0],
    repository_owner_id: REPOSITORY_OWNER_ID,
    repository_visibility: 'private',
    actor: event.actor,
    actor_id: String(4242 + event.actor.length),
    triggering_actor: event.actor,
    workflow: wf.name,
    workflow_ref: `${repository}/.github/workflows/${basename(wf.file)}@${event.ref}`,
    workflow_sha: event.sha,
    ref_protected: false,
    run_id: String(runId),
    run_number: '1',
    run_attempt: '1',
    server_url: 'https://github.com',
    head_ref: event.name === 'pull_request' ? (pr?.head?.ref ?? '') : '',
    base_ref: event.name === 'pull_request' ? (pr?.base?.ref ?? '') : '',
    retention_days: '90',
    action: '',
    secret_source: 'Actions',
  };
}

function matrixOf(job: JobModel, ctx: ExprContext): Record<string, Json>[] {
  const strategy = evaluateToken(job.strategy, ctx) as { matrix?: Record<string, Json> } | null;
  const m = strategy?.matrix;
  if (!m) return [{}];
  const { include, exclude, ...axes } = m as {
    include?: Record<string, Json>[];
    exclude?: Record<string, Json>[];
  } & Record<string, Json>;
  let combos: Record<string, Json>[] = [{}];
  for (const [k, values] of Object.entries(axes))
    combos = combos.flatMap((c) => (values as Json[]).map((v) => ({ ...c, [k]: v })));
  const matches = (c: Record<string, Json>, pattern: Record<string, Json>) =>
    Object.entries(pattern).every(([k, v]) => JSON.stringify(c[k]) === JSON.stringify(v));
  combos = combos.filter((c) => !(exclude ?? []).some((e) => matches(c, e)));
  for (const inc of include ?? []) {
    const hit = combos.filter((c) =>
      Object.keys(axes).every((k) => !(k in inc) || JSON.stringify(c[k]) === JSON.stringify(inc[k])),
    );
    if (hit.length && Object.keys(axes).length) hit.forEach((c) => Object.assign(c, inc));
    else combos.push({ ...inc });
  }
  return combos.filter((c) => Object.keys(c).length).length ? combos : [{}];
}

export async function runWorkflow(input: RunInput): Promise<RunResult> {
  const { workflow, sandbox, print } = input;
  const { inputs, problems } = dispatchInputs(workflow, input.event);
  // The dispatch payload carries every declared input, as strings, defaults filled in.
  const event =
    input.event.name === 'workflow_dispatch'
      ? {
          ...input.event,
          payload: {
            ...input.event.payload,
            inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, toText(v)])),
          },
        }
      : input.event;
  const dir = join(sandbox.root, 'events');
  await mkdir(dir, { recursive: true });
  const eventPath = join(dir, `${input.runId}.json`);
  await writeFile(eventPath, JSON.stringify(event.payload, null, 2));
  const github = githubContext(workflow, event, input.runId, eventPath, sandbox.repository);
  const other = githubContext(workflow, anotherEvent(event), input.runId, eventPath, sandbox.repository);
  const wfCtx = (g: GithubContext): ExprContext => ({
    contexts: { github: g, inputs, vars: input.vars },
    status: 'success',
    workspace: sandbox.root,
  });
  let concurrency: RunResult['concurrency'];
  try {
    const c = checkConcurrency(
      workflow.concurrency,
      `${workflow.file} concurrency`,
      event,
      wfCtx(github),
      wfCtx(other),
    );
    if (c) {
      problems.push(...c.problems);
      concurrency = { group: c.group, cancelInProgress: c.cancelInProgress };
      print(`concurrency group "${c.group}", cancel-in-progress: ${c.cancelInProgress}`);
    }
    problems.push(
      ...staticRunsOnProblems(workflow, input.selfHosted ?? []),
      ...referenceProblems(workflow, input.lock),
      ...pipefailProblems(workflow, wfCtx(github)),
    );
  } catch (err) {
    problems.push(`${workflow.file}: ${(err as Error).message}`);
  }
  if (problems.length) {
    print(`\n✗ GitHub would not run this as meant (nothing ran):\n${problems.map((p) => `  ✗ ${p}`).join('\n')}`);
    return {
      workflow: workflow.file,
      event: event.name,
      sha: event.sha,
      ref: event.ref,
      runId: input.runId,
      conclusion: 'failure',
      jobs: [],
      failures: problems,
      summary: '',
      concurrency,
    };
  }
  const results = new Map<string, JobResult>();
  const summary: string[] = [];
  const failures: string[] = [];
  const pending = [...workflow.jobs];
  while (pending.length) {
    const i = pending.findIndex((j) => j.needs.every((n) => results.has(n)));
    if (i < 0)
      throw new Error(
        `${workflow.file}: jobs ${pending.map((j) => j.id).join(', ')} wait on needs that never run (a cycle or a missing job)`,
      );
    const [job] = pending.splice(i, 1);
    const needs = Object.fromEntries(
      job.needs.map((n) => [n, { result: results.get(n)!.result, outputs: results.get(n)!.outputs }]),
    );
    const needsOk = job.needs.every((n) => results.get(n)!.result === 'success');
    const ctx: ExprContext = {
      contexts: { github, needs, vars: input.vars, inputs },
      status: needsOk ? 'success' : 'failure',
      workspace: sandbox.root,
    };
    print(`\n● job ${job.id}${job.needs.length ? ` (needs ${job.needs.join(', ')})` : ''}`);
    if (!evaluateIf(job.if, ctx)) {
      print(
        `  ○ skipped: ${needsOk ? `if ${job.if}` : `a needed job did not succeed (${job.needs.map((n) => `${n}: ${results.get(n)!.result}`).join(', ')})`}`,
      );
      results.set(job.id, { id: job.id, result: 'skipped', outputs: {}, steps: [] });
      continue;
    }
    const combos = matrixOf(job, ctx);
    let merged: JobResult | null = null;
    for (const matrix of combos) {
      if (Object.keys(matrix).length) print(`  matrix ${JSON.stringify(matrix)}`);
      const jobCtx = (g: GithubContext): ExprContext => ({
        ...ctx,
        contexts: { ...ctx.contexts, github: g, matrix, strategy: {} },
      });
      const c = checkConcurrency(
        job.concurrency,
        `${workflow.file} job ${job.id} concurrency`,
        event,
        jobCtx(github),
        jobCtx(other),
      );
      if (c) print(`  concurrency group "${c.group}", cancel-in-progress: ${c.cancelInProgress}`);
      if (c?.problems.length) {
        failures.push(...c.problems);
        merged = { id: job.id, result: 'failure', outputs: {}, steps: [], error: c.problems.join('; ') };
        continue;
      }
      const r = await runJob({
        workflow,
        job,
        event,
        sandbox,
        runId: input.runId,
        github,
        vars: input.vars,
        secrets: input.secrets,
        needs,
        matrix,
        lock: input.lock,
        hostEnv: input.hostEnv,
        inputs,
        selfHosted: input.selfHosted ?? [],
        print,
        summary,
      });
      if (r.result === 'failure')
        failures.push(
          `${workflow.file} job ${job.id}${Object.keys(matrix).length ? ` ${JSON.stringify(matrix)}` : ''}: ${r.error}`,
        );
      merged = merged && merged.result === 'failure' ? merged : r;
    }
    results.set(job.id, merged!);
  }
  const jobs = [...results.values()];
  return {
    workflow: workflow.file,
    event: event.name,
    sha: event.sha,
    ref: event.ref,
    runId: input.runId,
    conclusion: failures.length ? 'failure' : 'success',
    jobs,
    failures,
    summary: summary.join('\n'),
    concurrency,
  };
}
