/**
 * What GitHub decides before (or instead of) running a job, and the mistakes it lets through
 * silently, checked before the rehearsal runs anything:
 *
 * - workflow_dispatch inputs as the dispatch API validates them (unknown input, missing required
 *   input, a value outside a choice's options, a boolean or number that is not one), and the
 *   `inputs` context they give (typed, defaults filled in);
 * - `concurrency`: the group evaluated for the event must not be empty, and must tell events apart
 *   where runs must not share a group: on pull_request events a group that is the same for another
 *   pull request (its number, head ref and sha changed) makes one PR's run cancel (or, queued,
 *   replace) another PR's; on push events with cancel-in-progress, a group that is the same for
 *   another branch cancels that branch's run;
 * - `runs-on` labels no runner has (runners.ts), when they are written without expressions;
 * - references GitHub evaluates to '' without a word: `needs.<job>` of a job not in `needs`, an
 *   output the job does not declare, `steps.<id>` of no earlier step with that id, an output an
 *   action does not have or a run step never writes, `inputs.<name>` of no declared input;
 * - `cmd | tee …` in a step whose shell has no pipefail (the default `bash -e {0}`, `sh`): the
 *   step's exit status is tee's, so a failing command passes green.
 */
import { evaluateToken, toText, type ExprContext, type Json } from './expr.ts';
import { pickRunner, type SelfHostedRunner } from './runners.ts';
import { hasPipefail } from './shell.ts';
import type { JobModel, StepModel, WorkflowModel } from './workflow.ts';
import type { ActionPin, RehearsalEvent } from './types.ts';

type InputDef = { type?: string; required?: boolean; default?: Json; options?: Json[]; description?: string };

function onMapping(wf: WorkflowModel): Record<string, Json> {
  const on = wf.on;
  if (typeof on === 'string') return { [on]: null };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [toText(e), null]));
  return (on ?? {}) as Record<string, Json>;
}

/** Declared inputs of workflow_dispatch (and workflow_call), by name. */
export function declaredInputs(
  wf: WorkflowModel,
  trigger?: 'workflow_dispatch' | 'workflow_call',
): Record<string, InputDef> {
  const on = onMapping(wf);
  const pick = (e: string): Record<string, InputDef> =>
    (on[e] as { inputs?: Record<string, InputDef> } | null)?.inputs ?? {};
  return trigger ? pick(trigger) : { ...pick('workflow_call'), ...pick('workflow_dispatch') };
}

/**
 * The `inputs` context of a run (typed: booleans and numbers as such, defaults filled in) and why
 * GitHub would refuse the dispatch (its 422 messages). Only dispatch runs have inputs here; every
 * other event's `inputs` is empty.
 */
export function dispatchInputs(
  wf: WorkflowModel,
  event: RehearsalEvent,
): { inputs: Record<string, Json>; problems: string[] } {
  if (event.name !== 'workflow_dispatch') return { inputs: {}, problems: [] };
  const defs = declaredInputs(wf, 'workflow_dispatch');
  const given = event.inputs ?? {};
  const problems: string[] = [];
  const unexpected = Object.keys(given).filter((k) => !(k in defs));
  if (unexpected.length)
    problems.push(
      `workflow_dispatch refused (HTTP 422): Unexpected inputs provided: ${JSON.stringify(unexpected)} (the workflow declares ${Object.keys(defs).join(', ') || 'no inputs'})`,
    );
  const inputs: Record<string, Json> = {};
  for (const [name, d] of Object.entries(defs)) {
    const type = d?.type ?? 'string';
    const raw =
      name in given ? given[name] : d?.default === undefined || d.default === null ? undefined : toText(d.default);
    if (raw === undefined || (raw === '' && d?.required)) {
      if (d?.required) problems.push(`workflow_dispatch refused (HTTP 422): Required input '${name}' not provided`);
      inputs[name] = type === 'boolean' ? false : '';
      continue;
    }
    if (type === 'choice') {
      const options = (d?.options ?? []).map((o) => toText(o));
      if (!options.includes(raw))
        problems.push(
          `workflow_dispatch refused (HTTP 422): Provided value '${raw}' for input '${name}' not in the list of allowed values (${options.join(', ')})`,
        );
      inputs[name] = raw;
    } else if (type === 'boolean') {
      if (raw !== 'true' && raw !== 'false')
        problems.push(
          `workflow_dispatch refused (HTTP 422): Provided value '${raw}' for input '${name}' is not a boolean`,
        );
      inputs[name] = raw === 'true';
    } else if (type === 'number') {
      if (raw.trim() === '' || !Number.isFinite(Number(raw)))
        problems.push(
          `workflow_dispatch refused (HTTP 422): Provided value '${raw}' for input '${name}' is not a number`,
        );
      inputs[name] = Number(raw);
    } else inputs[name] = raw;
  }
  return { inputs, problems };
}

/** The same event for another pull request / another branch (for "does the group tell them apart"). */
export function anotherEvent(event: RehearsalEvent): RehearsalEvent {
  const other = structuredClone(event);
  const p = other.payload as Record<string, Json> & {
    number?: number;
    pull_request?: Record<string, Json> & { number?: number; id?: number; head?: Record<string, Json> };
  };
  const sha = 'f'.repeat(40);
  other.sha = sha;
  if (event.name === 'pull_request' || event.name === 'pull_request_target') {
    const n = Number(p.number ?? p.pull_request?.number ?? 1) + 1000;
    p.number = n;
    if (p.pull_request) {
      p.pull_request.number = n;
      p.pull_request.id = Number(p.pull_request.id ?? 0) + 1000;
      p.pull_request.head = { ...(p.pull_request.head ?? {}), ref: 'another-pr-branch', sha };
    }
    if (event.name === 'pull_request') other.ref = `refs/pull/${n}/merge`;
  } else {
    other.ref = event.ref.startsWith('refs/tags/') ? 'refs/tags/another-tag' : 'refs/heads/another-branch';
    p.ref = other.ref;
    p.after = sha;
  }
  const run = p.workflow_run as Record<string, Json> | undefined;
  if (run) Object.assign(run, { id: Number(run.id ?? 0) + 1000, head_sha: sha, head_branch: 'another-branch' });
  return other;
}

export interface ConcurrencyResult {
  group: string;
  cancelInProgress: boolean;
  problems: string[];
}

/**
 * `concurrency` (a group string or `{group, cancel-in-progress}`) evaluated for the event (`ctx`)
 * and for `another` (the contexts of anotherEvent), or null without one.
 */
export function checkConcurrency(
  token: Json | undefined,
  where: string,
  event: RehearsalEvent,
  ctx: ExprContext,
  another: ExprContext,
): ConcurrencyResult | null {
  if (token === undefined || token === null) return null;
  const raw = typeof token === 'object' && !Array.isArray(token) ? token : { group: token };
  const groupOf = (c: ExprContext) => toText(evaluateToken(raw.group ?? null, c)).trim();
  const group = groupOf(ctx);
  const cancelValue = evaluateToken(raw['cancel-in-progress'] ?? false, ctx);
  const cancelInProgress = cancelValue === true || cancelValue === 'true';
  const problems: string[] = [];
  if (cancelValue !== true && cancelValue !== false && cancelValue !== 'true' && cancelValue !== 'false')
    problems.push(`${where}: cancel-in-progress evaluates to ${JSON.stringify(cancelValue)}, not a boolean`);
  if (!group) {
    problems.push(
      `${where}: concurrency group ${JSON.stringify(raw.group)} evaluates to an empty string on ${event.name}: GitHub fails the run`,
    );
    return { group, cancelInProgress, problems };
  }
  const same = groupOf(another) === group;
  if (same && (event.name === 'pull_request' || event.name === 'pull_request_target'))
    problems.push(
      `${where}: concurrency group "${group}" is the same for every pull request (it has no PR number or head ref): another PR's run ${cancelInProgress ? 'cancels this one (cancel-in-progress)' : 'queues behind it and GitHub cancels all but the newest pending run'}; use e.g. \${{ github.workflow }}-\${{ github.event.pull_request.number || github.ref }}`,
    );
  else if (same && cancelInProgress && event.name === 'push')
    problems.push(
      `${where}: concurrency group "${group}" with cancel-in-progress is the same for every branch: a push to one branch cancels the run of another; put github.ref in the group`,
    );
  return { group, cancelInProgress, problems };
}

/** Every string a job holds (its own keys and its steps'), with where it is. */
function jobStrings(job: JobModel): { at: string; text: string; step?: number; isIf?: boolean }[] {
  const out: { at: string; text: string; step?: number; isIf?: boolean }[] = [];
  const walk = (v: Json | undefined, at: string, step?: number) => {
    if (typeof v === 'string') out.push({ at, text: v, step });
    else if (Array.isArray(v)) v.forEach((x) => walk(x, at, step));
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        walk(k, at, step);
        walk(x, at, step);
      }
  };
  if (job.if) out.push({ at: `job ${job.id} if`, text: job.if, isIf: true });
  for (const [k, v] of Object.entries({
    name: job.name,
    env: job.env,
    strategy: job.strategy,
    'runs-on': job.runsOn,
    environment: job.environment,
    concurrency: job.concurrency,
    container: job.container,
    services: job.services,
    'timeout-minutes': job.timeoutMinutes,
    'continue-on-error': job.continueOnError,
  }))
    walk(v, `job ${job.id} ${k}`);
  walk(job.outputs, `job ${job.id} outputs`, Infinity);
  job.steps.forEach((s, i) => {
    const at = `job ${job.id} step ${i + 1} (${stepLabel(s)})`;
    if (s.if) out.push({ at: `${at} if`, text: s.if, step: i, isIf: true });
    for (const v of [s.name, s.run, s.with, s.env, s.workingDirectory, s.continueOnError, s.timeoutMinutes])
      walk(v, at, i);
  });
  return out;
}

function stepLabel(s: StepModel): string {
  if (s.name) return toText(s.name);
  if (s.uses) return s.uses.replace(/@[0-9a-f]{40}$/, '');
  return toText(s.run ?? '').split('\n')[0];
}

/** The expressions inside a string (`${{ … }}`), or the whole of an `if:`. */
function expressions(text: string, isIf?: boolean): string[] {
  const found = [...text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]);
  if (isIf && !found.length) return [text];
  return found;
}

/** Names a run: script writes to GITHUB_OUTPUT (null: it writes some with a computed name). */
function writtenOutputs(script: string): Set<string> | null {
  if (!/GITHUB_OUTPUT/.test(script)) return new Set();
  if (/(^|["'\s{;])\$\{?[A-Za-z_][\w]*\}?(=|<<)/m.test(script)) return null;
  return new Set([...script.matchAll(/([A-Za-z_][\w-]*)(=|<<)/g)].map((m) => m[1]));
}

/** References that GitHub silently evaluates to '' (see the file comment). */
export function referenceProblems(wf: WorkflowModel, lock: Record<string, ActionPin>): string[] {
  const problems: string[] = [];
  const jobs = new Map(wf.jobs.map((j) => [j.id, j]));
  const inputs = declaredInputs(wf);
  const hasInputs = Object.keys(onMapping(wf)).some((e) => e === 'workflow_dispatch' || e === 'workflow_call');
  const NOT_AFTER_DOT = '(?<![\\w.-])';
  for (const job of wf.jobs) {
    for (const s of jobStrings(job)) {
      for (const expr of expressions(s.text, s.isIf)) {
        for (const m of expr.matchAll(
          new RegExp(`${NOT_AFTER_DOT}needs\\.([A-Za-z_][\\w-]*)(?:\\.outputs\\.([A-Za-z_][\\w-]*))?`, 'g'),
        )) {
          const [, id, output] = m;
          if (!job.needs.includes(id)) {
            problems.push(
              `${wf.file} ${s.at}: needs.${id}${output ? `.outputs.${output}` : ''}, but job ${job.id} does not need ${id} (needs: ${job.needs.join(', ') || 'none'}): it evaluates to ''`,
            );
            continue;
          }
          const declared = Object.keys((jobs.get(id)?.outputs ?? {}) as Record<string, Json>);
          if (output && !declared.includes(output))
            problems.push(
              `${wf.file} ${s.at}: needs.${id}.outputs.${output}: job ${id} has no output "${output}" (outputs: ${declared.join(', ') || 'none'}): it evaluates to ''`,
            );
        }
        for (const m of expr.matchAll(
          new RegExp(
            `${NOT_AFTER_DOT}steps\\.([A-Za-z_][\\w-]*)\\.(outputs\\.([A-Za-z_][\\w-]*)|outcome|conclusion)`,
            'g',
          ),
        )) {
          const [, id, , output] = m;
          const before = s.step === undefined ? [] : job.steps.slice(0, s.step);
          const target = before.find((x) => x.explicitId && x.id === id);
          if (!target) {
            problems.push(
              `${wf.file} ${s.at}: steps.${id}: no ${s.step === Infinity ? '' : 'earlier '}step of job ${job.id} has id "${id}" (ids: ${
                job.steps
                  .filter((x) => x.explicitId)
                  .map((x) => x.id)
                  .join(', ') || 'none'
              }): it evaluates to ''`,
            );
            continue;
          }
          if (!output) continue;
          if (target.uses) {
            const pin = lock[target.uses.split('@')[0]];
            if (pin && !pin.outputs.includes(output))
              problems.push(
                `${wf.file} ${s.at}: steps.${id}.outputs.${output}: ${target.uses.split('@')[0]}@${pin.version} has no output "${output}" (${pin.outputs.join(', ') || 'none'}): it evaluates to ''`,
              );
          } else if (typeof target.run === 'string') {
            const written = writtenOutputs(target.run);
            if (written && !written.has(output))
              problems.push(
                `${wf.file} ${s.at}: steps.${id}.outputs.${output}: step "${stepLabel(target)}" never writes "${output}" to GITHUB_OUTPUT (it writes ${[...written].join(', ') || 'nothing'}): it evaluates to ''`,
              );
          }
        }
        for (const m of expr.matchAll(new RegExp(`${NOT_AFTER_DOT}inputs\\.([A-Za-z_][\\w-]*)`, 'g')))
          if (!(m[1] in inputs))
            problems.push(
              `${wf.file} ${s.at}: inputs.${m[1]} is not an input of ${hasInputs ? `on.workflow_dispatch (inputs: ${Object.keys(inputs).join(', ') || 'none'})` : 'this workflow (no workflow_dispatch/workflow_call)'}: it evaluates to ''`,
            );
      }
    }
  }
  return [...new Set(problems)];
}

/** `cmd | tee …` under a shell without pipefail. */
export function pipefailProblems(wf: WorkflowModel, ctx: ExprContext): string[] {
  const problems: string[] = [];
  const runShell = (t: Json | undefined) => (evaluateToken(t, ctx) as { run?: { shell?: string } } | null)?.run?.shell;
  const wfShell = runShell(wf.defaults);
  for (const job of wf.jobs)
    job.steps.forEach((s, i) => {
      if (typeof s.run !== 'string') return;
      const shell = s.shell ?? runShell(job.defaults) ?? wfShell;
      if (hasPipefail(shell)) return;
      const lines = s.run.split('\n');
      const setAt = lines.findIndex((l) => /^\s*set\s+(-[a-zA-Z]*o\s+pipefail|-o\s+pipefail|.*\bpipefail\b)/.test(l));
      lines.forEach((l, n) => {
        if (!/\|\s*tee\b/.test(l.replace(/#.*$/, '')) || (setAt >= 0 && setAt < n)) return;
        problems.push(
          `${wf.file} job ${job.id} step ${i + 1} (${stepLabel(s)}): "${l.trim().length > 90 ? `…${l.trim().slice(-90)}` : l.trim()}" runs under \`${shell ?? 'bash -e {0}'}\`${shell ? '' : ' (no shell: given)'}, which has no pipefail: the step's status is tee's, so a failing command before the pipe passes green. Add \`shell: bash\` (-o pipefail) or \`set -o pipefail\``,
        );
      });
    });
  return problems;
}

/** runs-on written without expressions, checked now (the rest when the job starts). */
export function staticRunsOnProblems(wf: WorkflowModel, selfHosted: SelfHostedRunner[]): string[] {
  const problems: string[] = [];
  for (const job of wf.jobs) {
    if (JSON.stringify(job.runsOn ?? null).includes('${{')) continue;
    try {
      pickRunner(job.runsOn ?? null, selfHosted);
    } catch (err) {
      problems.push(`${wf.file} job ${job.id}: ${(err as Error).message}`);
    }
  }
  return problems;
}
