/**
 * Child process that runs an actions/github-script (v8) `script` the way the action does: the body
 * of an async function with `github` (an authenticated Octokit, @actions/github getOctokit, base
 * URL GITHUB_API_URL = the loopback GitHub), `context`, `core`, `require` (from the workspace) and
 * `process`; the return value becomes output `result` (JSON unless result-encoding is string).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as core from '@actions/core';
import { context, getOctokit } from '@actions/github';

const script = process.env.INPUT_SCRIPT ?? '';
const token = process.env['INPUT_GITHUB-TOKEN'] ?? '';
if (!token) throw new Error('Input required and not supplied: github-token');
const github = getOctokit(token, { baseUrl: process.env.GITHUB_API_URL });
const require = createRequire(join(process.env.GITHUB_WORKSPACE ?? process.cwd(), 'noop.js'));
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
try {
  const result = await new AsyncFunction('require', 'github', 'context', 'core', 'process', script)(
    require,
    github,
    context,
    core,
    process,
  );
  const encoding = process.env['INPUT_RESULT-ENCODING'] || 'json';
  core.setOutput('result', encoding === 'string' ? String(result ?? '') : JSON.stringify(result ?? null));
} catch (err) {
  core.setFailed(`Unhandled error: ${(err as Error).message}`);
}
