/**
 * A workflow file as GitHub reads it: parsed and schema-checked by `@actions/workflow-parser`,
 * converted by its `convertWorkflowTemplate` (jobs, needs, generated step ids). Values stay as
 * written (with their `${{ }}`): they are evaluated when the step runs, with that moment's contexts.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } from '@actions/workflow-parser';
import { parse } from 'yaml';
import type { Json } from './expr.ts';

export interface StepModel {
  index: number;
  id: string;
  /** true when the workflow gave the id (only those appear in `steps.<id>`). */
  explicitId: boolean;
  name?: Json;
  if?: string;
  uses?: string;
  run?: Json;
  with?: Json;
  env?: Json;
  shell?: string;
  workingDirectory?: Json;
  continueOnError?: Json;
  timeoutMinutes?: Json;
}

export interface JobModel {
  id: string;
  name?: Json;
  needs: string[];
  if?: string;
  env?: Json;
  strategy?: Json;
  outputs?: Json;
  container?: Json;
  services?: Json;
  environment?: Json;
  permissions?: Json;
  timeoutMinutes?: Json;
  continueOnError?: Json;
  defaults?: Json;
  runsOn?: Json;
  concurrency?: Json;
  steps: StepModel[];
}

export interface WorkflowModel {
  file: string;
  name: string;
  events: Record<string, unknown>;
  env?: Json;
  defaults?: Json;
  permissions?: Json;
  concurrency?: Json;
  /** `on:` as written (the converted events drop input types such as `number`). */
  on: Json;
  jobs: JobModel[];
  source: string;
}

type Scalar = null | boolean | number | string;
/** A workflow, job or step mapping as written; GitHub's schema (checked first) makes these keys scalars. */
interface Raw {
  [key: string]: Json | undefined;
  name?: Scalar;
  if?: Scalar;
  uses?: Scalar;
  shell?: Scalar;
}
const condition = (v: Scalar | undefined): string | undefined =>
  v === undefined || v === null ? undefined : String(v);

/**
 * Parse a workflow file; throws with every parser error when GitHub would reject it. Structure
 * (jobs, needs, step ids) comes from GitHub's parser; values come from the YAML as written
 * (`yaml`), because the parser's `format()` rewrite of `${{ }}` inside block scalars keeps the
 * source indentation, and `@actions/expressions` unescapes only the first `''` of a literal.
 */
export async function loadWorkflow(file: string, source = readFileSync(file, 'utf8')): Promise<WorkflowModel> {
  const parsed = parseWorkflow({ name: basename(file), content: source }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors();
  if (errors.length || !parsed.value)
    throw new Error(`${file}: GitHub would reject this workflow:\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  if (template.errors?.length) throw new Error(`${file}: ${template.errors.map((e) => e.Message).join('; ')}`);
  const root = parse(source) as Raw;
  const rawJobs = (root.jobs ?? {}) as Record<string, Raw>;
  const jobs: JobModel[] = template.jobs.map((job) => {
    if (job.type !== 'job')
      throw new Error(`${file}: job ${job.id.value} calls a reusable workflow, which the rehearsal does not run`);
    const raw = rawJobs[job.id.value] ?? {};
    const rawSteps = (raw.steps ?? []) as Raw[];
    const steps: StepModel[] = job.steps.map((step, index) => {
      const r = rawSteps[index] ?? {};
      return {
        index,
        id: step.id,
        explicitId: !step.id.startsWith('__'),
        name: r.name,
        if: condition(r.if),
        uses: r.uses === undefined ? undefined : String(r.uses),
        run: r.run,
        with: r.with,
        env: r.env,
        shell: r.shell === undefined ? undefined : String(r.shell),
        workingDirectory: r['working-directory'],
        continueOnError: r['continue-on-error'],
        timeoutMinutes: r['timeout-minutes'],
      };
    });
    return {
      id: job.id.value,
      name: raw.name,
      needs: (job.needs ?? []).map((n) => n.value),
      if: condition(raw.if),
      env: raw.env,
      strategy: raw.strategy,
      outputs: raw.outputs,
      container: raw.container,
      services: raw.services,
      environment: raw.environment,
      permissions: raw.permissions,
      timeoutMinutes: raw['timeout-minutes'],
      continueOnError: raw['continue-on-error'],
      defaults: raw.defaults,
      runsOn: raw['runs-on'],
      concurrency: raw.concurrency,
      steps,
    };
  });
  return {
    file,
    name: root.name === undefined ? basename(file) : String(root.name),
    events: template.events,
    env: root.env,
    defaults: root.defaults,
    permissions: root.permissions,
    concurrency: root.concurrency,
    on: root.on ?? null,
    jobs,
    source,
  };
}

/** `vars.X` and `secrets.Y` names a workflow reads anywhere (for the first-run checklist). */
export function referencedSettings(source: string): { vars: string[]; secrets: string[] } {
  const collect = (ctx: string) =>
    [...new Set([...source.matchAll(new RegExp(`\\b${ctx}\\.([A-Za-z_][A-Za-z0-9_]*)`, 'g'))].map((m) => m[1]))].sort();
  return { vars: collect('vars'), secrets: collect('secrets').filter((s) => s !== 'GITHUB_TOKEN') };
}
