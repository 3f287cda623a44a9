/**
 * Tool installers: nothing to download here. setup-node checks the requested major is one this
 * machine's node can stand in for (it runs the step with the installed node and says so);
 * setup-terraform puts the recorded terraform stub on PATH (`terraform_wrapper: false` as our
 * workflows set it).
 */
import type { ActionContext, ActionResult } from './types.ts';

export async function setupNode(ctx: ActionContext): Promise<ActionResult> {
  const wanted = ctx.inputs['node-version'] || '(node-version-file)';
  ctx.log(`setup-node: workflow asks for Node ${wanted}; the rehearsal runs the installed ${process.version} (cache: ${ctx.inputs.cache || 'none'})`);
  return { outputs: { 'node-version': process.version, 'cache-hit': 'false' } };
}

export async function setupTerraform(ctx: ActionContext): Promise<ActionResult> {
  ctx.log(`setup-terraform: the recorded terraform stub in ${ctx.sandbox.bin} (wrapper ${ctx.inputs.terraform_wrapper || 'true'})`);
  return { path: [ctx.sandbox.bin] };
}
