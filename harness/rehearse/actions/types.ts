/** What a `uses:` stand-in gets and gives back, mirroring a JavaScript action's view of the runner. */
import type { Json } from '../expr.ts';
import type { RehearsalEvent, Sandbox } from '../types.ts';

export interface ActionContext {
  action: string;
  version: string;
  inputs: Record<string, string>;
  workspace: string;
  runnerTemp: string;
  /** The step's environment (what process.env holds inside the action). */
  env: Record<string, string>;
  /** The job's `github` context; the stand-ins read repository, ref and sha. */
  github: { [key: string]: Json; repository: string; ref: string; sha: string };
  event: RehearsalEvent;
  sandbox: Sandbox;
  runId: number;
  log: (line: string) => void;
}

export interface ActionResult {
  outputs?: Record<string, string>;
  /** core.exportVariable */
  env?: Record<string, string>;
  /** core.addPath */
  path?: string[];
  summary?: string;
}

export type StandIn = (ctx: ActionContext) => Promise<ActionResult>;

export class ActionFailure extends Error {}

export function inputBool(ctx: ActionContext, name: string): boolean {
  const v = (ctx.inputs[name] ?? '').trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false' || v === '') return false;
  throw new ActionFailure(
    `Input does not meet YAML 1.2 "Core Schema" specification: ${name} (got "${ctx.inputs[name]}")`,
  );
}
