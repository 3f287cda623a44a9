/** actions/github-script: the script runs in a child process (github-script-host.ts) with the step's env. */
import { join } from 'node:path';
import { execStreaming } from '../shell.ts';
import { TSX } from '../stubs/install.ts';
import { ActionFailure, type ActionContext, type ActionResult } from './types.ts';

export async function githubScript(ctx: ActionContext): Promise<ActionResult> {
  const env: Record<string, string> = { ...ctx.env };
  for (const [k, v] of Object.entries(ctx.inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const r = await execStreaming(
    process.execPath,
    ['--import', TSX, join(import.meta.dirname, 'github-script-host.ts')],
    ctx.workspace,
    env,
    10 * 60_000,
    ctx.log,
  );
  if (r.code !== 0) throw new ActionFailure(`github-script exited ${r.code}`);
  return {};
}
