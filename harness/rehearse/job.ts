/**
 * One job, as the runner runs it: a runner that has its `runs-on` labels (else it never starts),
 * a GITHUB_TOKEN of its own with the job's permissions (permissions.ts; granted on the loopback
 * API and checked by git pushes, revoked when the job ends), a fresh workspace, HOME and
 * RUNNER_TEMP, the environment of a hosted runner — PATH, the image's variables and GitHub's
 * default GITHUB_… and RUNNER_… variables; nothing else of the machine the rehearsal runs on — with
 * env layered workflow → job → GITHUB_ENV → step, each step's `if:` against the job status,
 * `run:` steps in their shell with the file commands (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH,
 * GITHUB_STEP_SUMMARY) read back after the step, `uses:` steps by their stand-ins,
 * `continue-on-error`, `timeout-minutes`, and the job outputs evaluated at the end.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  evaluate,
  evaluateIf,
  evaluateMap,
  evaluateText,
  evaluateToken,
  toText,
  type ExprContext,
  type Json,
} from './expr.ts';
import { parseKeyValueFile, parsePathFile, prependPath, scanWorkflowCommands } from './file-commands.ts';
import { describePermissions, tokenPermissions } from './permissions.ts';
import { pickRunner, type RunnerChoice, type SelfHostedRunner } from './runners.ts';
import { REPOSITORY_ID, REPOSITORY_OWNER_ID } from './sandbox.ts';
import { runScript } from './shell.ts';
import { STAND_INS } from './actions/index.ts';
import { ActionFailure } from './actions/types.ts';
import type { JobModel, StepModel, WorkflowModel } from './workflow.ts';
import type { ActionPin, GithubContext, JobResult, RehearsalEvent, Sandbox, StepResult } from './types.ts';

export interface JobInput {
  workflow: WorkflowModel;
  job: JobModel;
  event: RehearsalEvent;
  sandbox: Sandbox;
  runId: number;
  github: GithubContext;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  needs: Record<string, { result: string; outputs: Record<string, string> }>;
  matrix: Record<string, Json>;
  lock: Record<string, ActionPin>;
  /** PATH of the machine the runner runs on, and the rehearsal's own knobs (REHEARSE_*). */
  hostEnv: Record<string, string>;
  /** The run's `inputs` context (typed, defaults filled in). */
  inputs: Record<string, Json>;
  selfHosted: SelfHostedRunner[];
  print: (line: string) => void;
  summary: string[];
}

/** What a hosted runner's image puts in every step's environment besides GitHub's own variables. */
function imageEnv(runner: RunnerChoice, home: string): Record<string, string> {
  return {
    HOME: home,
    USER: 'runner',
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    DEBIAN_FRONTEND: 'noninteractive',
    XDG_CONFIG_HOME: join(home, '.config'),
    ...(runner.environment === 'github-hosted' ? { ImageOS: runner.image, ImageVersion: '20260801.1.0' } : {}),
  };
}

export function isForkPr(event: RehearsalEvent): boolean {
  const pr = event.payload.pull_request as
    { head?: { repo?: { full_name?: string } }; base?: { repo?: { full_name?: string } } } | undefined;
  return (
    event.name === 'pull_request' && !!pr?.head?.repo?.full_name && pr.head.repo.full_name !== pr.base?.repo?.full_name
  );
}

function displayName(step: StepModel, ctx: ExprContext): string {
  if (step.name) return evaluateText(step.name, ctx);
  if (step.uses) return `Run ${step.uses.replace(/@[0-9a-f]{40}$/, '')}`;
  const run = step.run ? evaluateText(step.run, ctx).split('\n')[0] : step.id;
  return `Run ${run}`;
}

function defaultsRun(
  wf: WorkflowModel,
  job: JobModel,
  ctx: ExprContext,
): { shell?: string; workingDirectory?: string } {
  const pick = (t: JobModel['defaults']) =>
    (evaluateToken(t, ctx) as { run?: Record<string, string> } | null)?.run ?? {};
  const w = pick(wf.defaults);
  const j = pick(job.defaults);
  return { shell: j.shell ?? w.shell, workingDirectory: j['working-directory'] ?? w['working-directory'] };
}

export async function runJob(input: JobInput): Promise<JobResult> {
  const { job, workflow, sandbox, print } = input;
  const home = join(
    sandbox.root,
    'runner',
    `${input.runId}-${job.id}${Object.keys(input.matrix).length ? `-${randomUUID().slice(0, 8)}` : ''}`,
  );
  const workspace = join(home, 'work', String(input.github.repository).split('/')[1] ?? 'repo');
  const runnerTemp = join(home, 'temp');
  const userHome = join(home, 'home');
  const preCtx: ExprContext = {
    contexts: {
      github: input.github,
      needs: input.needs,
      matrix: input.matrix,
      strategy: {},
      vars: input.vars,
      inputs: input.inputs,
    },
    status: 'success',
    workspace,
  };
  let runner: RunnerChoice;
  try {
    runner = pickRunner(evaluateToken(job.runsOn ?? null, preCtx), input.selfHosted);
  } catch (err) {
    print(`  ✗ ${(err as Error).message}`);
    return { id: job.id, result: 'failure', outputs: {}, steps: [], error: (err as Error).message };
  }
  if (runner.os !== 'Linux')
    print(`  runs-on ${runner.labels.join(', ')} (${runner.os}): steps run on this Linux host instead`);
  await mkdir(workspace, { recursive: true });
  await mkdir(runnerTemp, { recursive: true });
  await mkdir(userHome, { recursive: true });
  // A token of its own (ghs_ + 36 characters, as GitHub's installation tokens look).
  const token = `ghs_${randomUUID().replace(/-/g, '').slice(0, 36)}`;
  const github: GithubContext = {
    ...input.github,
    job: job.id,
    workspace,
    action_path: '',
    token,
  };
  const steps: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {};
  const envFromFiles: Record<string, string> = {};
  const addedPath: string[] = [];
  let status: ExprContext['status'] = 'success';
  const results: StepResult[] = [];
  // Fork pull requests get no secrets (GITHUB_TOKEN aside, read-only).
  const secrets = isForkPr(input.event) ? {} : input.secrets;
  const masks = new Set<string>(Object.values(input.secrets).filter(Boolean));
  const mask = (line: string) => [...masks].reduce((l, m) => l.split(m).join('***'), line);

  const contexts = (env: Record<string, string>): Record<string, Json> => ({
    github,
    env,
    vars: input.vars,
    secrets: { GITHUB_TOKEN: token, ...secrets },
    needs: input.needs,
    steps,
    matrix: input.matrix,
    strategy: {},
    job: { status, container: {}, services: {} },
    runner: {
      os: runner.os,
      arch: runner.arch,
      temp: runnerTemp,
      tool_cache: join(home, 'tool'),
      name: 'GitHub Actions 1',
      environment: runner.environment,
      debug: '',
    },
    inputs: input.inputs,
  });
  const exprCtx = (env: Record<string, string>): ExprContext => ({ contexts: contexts(env), status, workspace });

  const wfEnv = evaluateMap(workflow.env, exprCtx({}));
  const jobEnv = { ...wfEnv, ...evaluateMap(job.env, exprCtx(wfEnv)) };
  const fork = isForkPr(input.event);
  // The job's permissions replace the workflow's; neither = the repository's default.
  const declared = job.permissions !== undefined ? job.permissions : workflow.permissions;
  const perms = tokenPermissions(declared === undefined ? undefined : evaluateToken(declared, exprCtx(jobEnv)), {
    fork,
  });
  const oidc = perms['id-token'] === 'write';
  const holder = `${workflow.file.split('/').pop()} job ${job.id}`;
  print(
    `  token: ${describePermissions(perms)}${declared === undefined ? ' (no permissions: the repository default, read-only)' : ''}${fork ? ' (fork PR: read-only, no secrets, no OIDC)' : ''}`,
  );
  sandbox.beginJob({ token, permissions: perms, holder });
  try {
    const container = evaluateToken(job.container, exprCtx(jobEnv));
    if (container)
      print(
        `  container ${typeof container === 'string' ? container : (container as { image?: string }).image}: steps run on this host instead (same commands, this machine's tools)`,
      );
    const services = evaluateToken(job.services, exprCtx(jobEnv));
    if (services)
      print(
        `  services ${Object.keys(services as object).join(', ')}: not started by the rehearsal (no container engine); steps that need them fail`,
      );
    const environment = evaluateToken(job.environment, exprCtx(jobEnv));
    if (environment)
      print(
        `  environment ${typeof environment === 'string' ? environment : (environment as { name?: string }).name}: protection rules (reviewers) are GitHub's; the rehearsal proceeds as approved`,
      );
    const defaults = defaultsRun(workflow, job, exprCtx(jobEnv));
    const jobTimeoutMs = Number(evaluateToken(job.timeoutMinutes, exprCtx(jobEnv)) ?? 360) * 60_000;
    const jobDeadline = Date.now() + jobTimeoutMs;

    for (const step of job.steps) {
      const env = { ...jobEnv, ...envFromFiles };
      let ctx = exprCtx(env);
      const name = displayName(step, ctx);
      const run = !evaluateIf(step.if, ctx) ? false : true;
      if (!run) {
        print(`  ○ ${name} (skipped: ${step.if ? `if ${step.if}` : 'a step before it failed'})`);
        results.push({ id: step.id, name, outcome: 'skipped', conclusion: 'skipped', outputs: {} });
        if (step.explicitId) steps[step.id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
        continue;
      }
      const stepEnv = { ...env, ...evaluateMap(step.env, ctx) };
      ctx = exprCtx(stepEnv);
      print(`  ▶ ${name}`);
      const files = {
        env: join(runnerTemp, `env-${randomUUID()}`),
        output: join(runnerTemp, `output-${randomUUID()}`),
        path: join(runnerTemp, `path-${randomUUID()}`),
        summary: join(runnerTemp, `summary-${randomUUID()}`),
        state: join(runnerTemp, `state-${randomUUID()}`),
      };
      for (const f of Object.values(files)) await writeFile(f, '');
      const processEnv: Record<string, string> = {
        ...imageEnv(runner, userHome),
        ...stepEnv,
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_WORKFLOW: workflow.name,
        GITHUB_RUN_ID: String(input.runId),
        GITHUB_RUN_NUMBER: '1',
        GITHUB_RUN_ATTEMPT: '1',
        GITHUB_JOB: job.id,
        GITHUB_ACTION: step.id,
        GITHUB_ACTOR: input.event.actor,
        GITHUB_ACTOR_ID: toText(github.actor_id),
        GITHUB_TRIGGERING_ACTOR: input.event.actor,
        GITHUB_REPOSITORY: String(github.repository),
        GITHUB_REPOSITORY_ID: REPOSITORY_ID,
        GITHUB_REPOSITORY_OWNER: String(github.repository_owner),
        GITHUB_REPOSITORY_OWNER_ID: REPOSITORY_OWNER_ID,
        GITHUB_RETENTION_DAYS: '90',
        GITHUB_WORKFLOW_REF: toText(github.workflow_ref),
        GITHUB_WORKFLOW_SHA: toText(github.workflow_sha),
        GITHUB_REF_TYPE: toText(github.ref_type),
        GITHUB_REF_PROTECTED: 'false',
        GITHUB_EVENT_NAME: input.event.name,
        GITHUB_EVENT_PATH: String(github.event_path),
        GITHUB_WORKSPACE: workspace,
        GITHUB_SHA: String(github.sha),
        GITHUB_REF: String(github.ref),
        GITHUB_REF_NAME: String(github.ref_name),
        GITHUB_HEAD_REF: String(github.head_ref ?? ''),
        GITHUB_BASE_REF: String(github.base_ref ?? ''),
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_API_URL: sandbox.apiUrl,
        GITHUB_GRAPHQL_URL: `${sandbox.apiUrl}/graphql`,
        GITHUB_ENV: files.env,
        GITHUB_OUTPUT: files.output,
        GITHUB_PATH: files.path,
        GITHUB_STEP_SUMMARY: files.summary,
        GITHUB_STATE: files.state,
        RUNNER_TEMP: runnerTemp,
        RUNNER_TOOL_CACHE: join(home, 'tool'),
        RUNNER_OS: runner.os,
        RUNNER_ARCH: runner.arch,
        RUNNER_NAME: 'GitHub Actions 1',
        RUNNER_ENVIRONMENT: runner.environment,
        RUNNER_WORKSPACE: join(home, 'work'),
        ...(step.uses
          ? { GITHUB_ACTION_REPOSITORY: step.uses.split('@')[0], GITHUB_ACTION_REF: step.uses.split('@')[1] ?? '' }
          : {}),
        GIT_CONFIG_GLOBAL: sandbox.gitConfig,
        REHEARSE_CALLS: sandbox.callLog,
        REHEARSE_CLOUD: sandbox.cloud,
        REHEARSE_STUB_SH: sandbox.stub,
        REHEARSE_NODE_MODULES: sandbox.nodeModules,
        REHEARSE_HOST_PATH: input.hostEnv.PATH ?? '',
        ...Object.fromEntries(
          ['REHEARSE_NPM_RECORD', 'REHEARSE_RECORD'].filter((k) => input.hostEnv[k]).map((k) => [k, input.hostEnv[k]]),
        ),
        REHEARSE_STEP: `${job.id}/${name}`,
        PATH: prependPath(`${sandbox.bin}:${input.hostEnv.PATH ?? ''}`, addedPath),
        ...(oidc
          ? {
              ACTIONS_ID_TOKEN_REQUEST_URL: `${sandbox.apiUrl}/_oidc`,
              ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'rehearsal-oidc',
            }
          : {}),
      };
      const timeoutMinutes = evaluateToken(step.timeoutMinutes, ctx);
      const timeoutMs = Math.min(
        timeoutMinutes === null ? Infinity : Number(timeoutMinutes) * 60_000,
        Math.max(0, jobDeadline - Date.now()),
        input.hostEnv.REHEARSE_STEP_TIMEOUT_MS ? Number(input.hostEnv.REHEARSE_STEP_TIMEOUT_MS) : Infinity,
      );
      let ok = true;
      let error: string | undefined;
      let outputs: Record<string, string> = {};
      const started = Date.now();
      const deniedBefore = sandbox.denials.length;
      try {
        if (step.run) {
          const script = evaluateText(step.run, ctx);
          const wd = step.workingDirectory ? evaluateText(step.workingDirectory, ctx) : defaults.workingDirectory;
          const cwd = wd ? resolve(workspace, wd) : workspace;
          if (!existsSync(cwd)) throw new Error(`working-directory ${wd} does not exist in the workspace (${cwd})`);
          const r = await runScript({
            script,
            shell: step.shell ?? defaults.shell,
            cwd,
            env: processEnv,
            runnerTemp,
            timeoutMs,
            onLine: (l) => print(`    ${mask(l)}`),
          });
          for (const a of scanWorkflowCommands(r.output, masks))
            if (a.level === 'error') error = error ? `${error}; ${a.message}` : a.message;
          if (r.timedOut) {
            ok = false;
            error = `the step exceeded its timeout-minutes (${(timeoutMs / 60_000).toPrecision(2)})`;
          } else if (r.code !== 0) {
            ok = false;
            error = `${error ? `${error}; ` : ''}process exited with code ${r.code}: ${lastLines(r.output)}`;
          }
        } else if (step.uses) {
          outputs = await runAction(
            step,
            ctx,
            input,
            { workspace, runnerTemp, processEnv, print: (l) => print(`    ${mask(l)}`) },
            { env: envFromFiles, path: addedPath, files },
          );
        }
      } catch (err) {
        ok = false;
        error = (err as Error).message;
      }
      // File commands, written by the step (also when it failed, as the runner reads them).
      try {
        Object.assign(envFromFiles, parseKeyValueFile(await readFile(files.env, 'utf8'), 'GITHUB_ENV'));
        outputs = { ...outputs, ...parseKeyValueFile(await readFile(files.output, 'utf8'), 'GITHUB_OUTPUT') };
        addedPath.push(...parsePathFile(await readFile(files.path, 'utf8')));
        const summary = await readFile(files.summary, 'utf8');
        if (summary) input.summary.push(summary);
      } catch (err) {
        ok = false;
        error = (err as Error).message;
      }
      // What GitHub refused this job's token during the step (a script may swallow the 403).
      for (const d of sandbox.denials.slice(deniedBefore).filter((x) => x.token === token)) {
        const why = `GitHub API ${d.method} ${d.path} → 403 Resource not accessible by integration: needs ${d.needs.map((n) => `${n}: ${d.level}`).join(' or ')}; the token of ${holder} has ${describePermissions({ ...perms })}`;
        print(`    ⚠ ${why}`);
        if (!ok) error = `${error ?? ''}; ${why}`;
      }
      const coe = step.continueOnError ? evaluateToken(step.continueOnError, ctx) : false;
      const outcome = ok ? 'success' : 'failure';
      const conclusion = ok || coe === true || coe === 'true' ? 'success' : 'failure';
      if (step.explicitId) steps[step.id] = { outputs, outcome, conclusion };
      results.push({ id: step.id, name, outcome, conclusion, outputs, ...(error ? { error } : {}) });
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      print(
        ok
          ? `  ✓ ${name} (${secs} s)`
          : `  ✗ ${name} FAILED (${secs} s): ${mask(error ?? '')}${conclusion === 'success' ? ' (continue-on-error)' : ''}`,
      );
      if (conclusion === 'failure') status = 'failure';
    }
    const failed = results.find((r) => r.conclusion === 'failure');
    const outputs = evaluateMap(job.outputs, exprCtx({ ...jobEnv, ...envFromFiles }));
    return {
      id: job.id,
      result: failed ? 'failure' : 'success',
      outputs,
      steps: results,
      ...(failed ? { error: `step "${failed.name}": ${failed.error}` } : {}),
    };
  } finally {
    sandbox.endJob(token);
  }
}

function lastLines(output: string, n = 8): string {
  return output
    .trim()
    .split('\n')
    .filter((l) => l.trim())
    .slice(-n)
    .map((l) => l.trim())
    .join(' | ')
    .slice(-1200);
}

async function runAction(
  step: StepModel,
  ctx: ExprContext,
  input: JobInput,
  where: { workspace: string; runnerTemp: string; processEnv: Record<string, string>; print: (l: string) => void },
  state: { env: Record<string, string>; path: string[]; files: { summary: string } },
): Promise<Record<string, string>> {
  const uses = step.uses!;
  if (uses.startsWith('./') || uses.startsWith('docker://'))
    throw new ActionFailure(`${uses}: local and docker actions are not rehearsed`);
  const [action, ref] = uses.split('@');
  const pin = input.lock[action];
  if (!pin)
    throw new ActionFailure(
      `${action} is not in .github/actions.lock.json: record its release (version, sha, inputs) first`,
    );
  if (ref !== pin.sha) throw new ActionFailure(`${action}@${ref} is not the locked ${pin.version} (${pin.sha})`);
  const given = evaluateMap(step.with, ctx);
  for (const k of Object.keys(given))
    if (!(k in pin.inputs))
      throw new ActionFailure(`${action}@${pin.version} has no input "${k}" (GitHub would warn and ignore it)`);
  const inputs: Record<string, string> = {};
  for (const [k, def] of Object.entries(pin.inputs)) {
    if (k in given) inputs[k] = given[k];
    else if (def !== null)
      inputs[k] = def.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, e: string) => toText(evaluate(e.trim(), ctx)));
  }
  for (const k of pin.required) if (!inputs[k]) throw new ActionFailure(`Input required and not supplied: ${k}`);
  const standIn = STAND_INS[action];
  if (!standIn) throw new ActionFailure(`${action}: no stand-in; add one under harness/rehearse/actions/`);
  const r = await standIn({
    action,
    version: pin.version,
    inputs,
    workspace: where.workspace,
    runnerTemp: where.runnerTemp,
    env: where.processEnv,
    github: ctx.contexts.github as GithubContext,
    event: input.event,
    sandbox: input.sandbox,
    runId: input.runId,
    log: where.print,
  });
  Object.assign(state.env, r.env ?? {});
  state.path.push(...(r.path ?? []));
  if (r.summary) await appendFile(state.files.summary, r.summary);
  return r.outputs ?? {};
}
