/**
 * Tool installers: nothing to download here. setup-node resolves the version the workflow asks
 * for (`node-version`, else `node-version-file` read from the workspace as setup-node reads it)
 * and refuses when this machine's node is another major: steps would otherwise run on a Node the
 * workflow never gets (run the rehearsal under the project's Node, as `.ci/run` does).
 * setup-terraform puts the recorded terraform stub on PATH (`terraform_wrapper: false` as our
 * workflows set it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionFailure, type ActionContext, type ActionResult } from './types.ts';

/** The version a `.nvmrc` / `.node-version` file names: its first non-comment line, `v` dropped. */
export function versionFromFile(text: string): string {
  const line =
    text
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .find(Boolean) ?? '';
  return line.replace(/^v/, '');
}

// Both stand-ins work synchronously; each runs in a promise executor so that a throw still
// rejects the returned promise, as it did from an async function.
export function setupNode(ctx: ActionContext): Promise<ActionResult> {
  return new Promise((resolve) => resolve(selectNode(ctx)));
}

function selectNode(ctx: ActionContext): ActionResult {
  let wanted = ctx.inputs['node-version'] ?? '';
  const file = ctx.inputs['node-version-file'] ?? '';
  if (!wanted && file) {
    const path = join(ctx.workspace, file);
    if (!existsSync(path)) throw new ActionFailure(`The specified node version file at: ${path} does not exist`);
    wanted = versionFromFile(readFileSync(path, 'utf8'));
  }
  if (!wanted) {
    ctx.log(`setup-node: no version requested; the runner's node stays (${process.version})`);
    return { outputs: { 'node-version': process.version, 'cache-hit': 'false' } };
  }
  const major = /^(\d+)/.exec(wanted)?.[1];
  const ours = process.versions.node.split('.')[0];
  if (major !== ours)
    throw new ActionFailure(
      `setup-node: the workflow asks for Node ${wanted}; this rehearsal runs on ${process.version}: run it under Node ${major ?? wanted} (.ci/run installs it)`,
    );
  ctx.log(`setup-node: Node ${wanted} → ${process.version} (cache: ${ctx.inputs.cache || 'none'})`);
  return { outputs: { 'node-version': process.version, 'cache-hit': 'false' } };
}

export function setupTerraform(ctx: ActionContext): Promise<ActionResult> {
  return new Promise((resolve) => {
    ctx.log(
      `setup-terraform: the recorded terraform stub in ${ctx.sandbox.bin} (wrapper ${ctx.inputs.terraform_wrapper || 'true'})`,
    );
    resolve({ path: [ctx.sandbox.bin] });
  });
}
