/**
 * A workflow file as GitHub reads it: parsed and schema-checked by `@actions/workflow-parser`,
 * converted by its `convertWorkflowTemplate` (jobs, needs, default `if: success()`, generated step
 * ids), and completed from the raw template tokens for what the converter leaves out (`with:`,
 * `shell`, `working-directory`, `timeout-minutes`, `continue-on-error`, `defaults`, `permissions`).
 * Values stay template tokens: they are evaluated when the step runs, with that moment's contexts.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  NoOperationTraceWriter, convertWorkflowTemplate, isBasicExpression, isMapping, isSequence, parseWorkflow, type TemplateToken,
} from '@actions/workflow-parser';
import type { MappingToken } from '@actions/workflow-parser/templates/tokens/mapping-token';

export interface StepModel {
  index: number;
  id: string;
  /** true when the workflow gave the id (only those appear in `steps.<id>` for users). */
  explicitId: boolean;
  name?: TemplateToken;
  if?: string;
  uses?: string;
  run?: TemplateToken;
  with?: TemplateToken;
  env?: TemplateToken;
  shell?: string;
  workingDirectory?: TemplateToken;
  continueOnError?: TemplateToken;
  timeoutMinutes?: TemplateToken;
  line?: number;
}

export interface JobModel {
  id: string;
  name?: TemplateToken;
  needs: string[];
  if?: string;
  env?: TemplateToken;
  strategy?: TemplateToken;
  outputs?: TemplateToken;
  container?: TemplateToken;
  services?: TemplateToken;
  environment?: TemplateToken;
  permissions?: TemplateToken;
  timeoutMinutes?: TemplateToken;
  continueOnError?: TemplateToken;
  defaults?: TemplateToken;
  steps: StepModel[];
}

export interface WorkflowModel {
  file: string;
  name: string;
  events: Record<string, unknown>;
  env?: TemplateToken;
  defaults?: TemplateToken;
  permissions?: TemplateToken;
  jobs: JobModel[];
  source: string;
}

function find(map: TemplateToken | undefined, key: string): TemplateToken | undefined {
  return map && isMapping(map) ? (map as MappingToken).find(key) : undefined;
}

const text = (t: TemplateToken | undefined): string | undefined => {
  if (!t) return undefined;
  if (isBasicExpression(t)) return `\${{ ${t.expression} }}`;
  const v = (t as unknown as { value?: unknown }).value;
  return v === undefined ? undefined : String(v);
};

/** Parse a workflow file; throws with every parser error (file:line) when GitHub would reject it. */
export async function loadWorkflow(file: string, source = readFileSync(file, 'utf8')): Promise<WorkflowModel> {
  const parsed = parseWorkflow({ name: basename(file), content: source }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors();
  if (errors.length || !parsed.value) throw new Error(`${file}: GitHub would reject this workflow:\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  if (template.errors?.length) throw new Error(`${file}: ${template.errors.map((e) => e.Message).join('; ')}`);
  const root = parsed.value;
  const rawJobs = find(root, 'jobs');
  const jobs: JobModel[] = template.jobs.map((job) => {
    if (job.type !== 'job') throw new Error(`${file}: job ${job.id.value} calls a reusable workflow, which the rehearsal does not run`);
    const raw = find(rawJobs, job.id.value);
    const rawSteps = find(raw, 'steps');
    const stepTokens = rawSteps && isSequence(rawSteps) ? [...rawSteps] : [];
    const steps: StepModel[] = job.steps.map((step, index) => {
      const r = stepTokens[index];
      const s = step as { id: string; name?: TemplateToken; if?: { expression: string }; uses?: { value: string }; run?: TemplateToken; env?: TemplateToken };
      return {
        index, id: s.id, explicitId: !s.id.startsWith('__'), name: s.name, if: s.if?.expression, uses: s.uses?.value, run: s.run, env: s.env,
        with: find(r, 'with'), shell: text(find(r, 'shell')), workingDirectory: find(r, 'working-directory'),
        continueOnError: find(r, 'continue-on-error'), timeoutMinutes: find(r, 'timeout-minutes'), line: r?.line,
      };
    });
    return {
      id: job.id.value, name: job.name, needs: (job.needs ?? []).map((n) => n.value), if: job.if?.expression, env: job.env,
      strategy: job.strategy, outputs: job.outputs, container: job.container, services: job.services, environment: job.environment,
      permissions: find(raw, 'permissions'), timeoutMinutes: find(raw, 'timeout-minutes'), continueOnError: find(raw, 'continue-on-error'),
      defaults: find(raw, 'defaults'), steps,
    };
  });
  return {
    file, name: text(find(root, 'name')) ?? basename(file), events: template.events as Record<string, unknown>, env: find(root, 'env'),
    defaults: find(root, 'defaults'), permissions: find(root, 'permissions'), jobs, source,
  };
}

/** `vars.X` and `secrets.Y` names a workflow reads anywhere (for the first-run checklist). */
export function referencedSettings(source: string): { vars: string[]; secrets: string[] } {
  const collect = (ctx: string) => [...new Set([...source.matchAll(new RegExp(`\\b${ctx}\\.([A-Za-z_][A-Za-z0-9_]*)`, 'g'))].map((m) => m[1]))].sort();
  return { vars: collect('vars'), secrets: collect('secrets').filter((s) => s !== 'GITHUB_TOKEN') };
}
