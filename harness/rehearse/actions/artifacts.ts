/**
 * actions/upload-artifact (v7) and download-artifact (v8) over a local store shared by the runs
 * of one rehearsal: `<store>/<run id>/<name>/`. Upload: `path` is one or more lines of files,
 * directories or globs; the artifact keeps paths relative to their least common ancestor;
 * `if-no-files-found` warn/error/ignore; a name can be uploaded once per run. Download: by `name`
 * (this run, or `run-id` with `github-token`, listed through the REST API, which needs the token's
 * actions: read) into `path` (default the workspace).
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ActionFailure, type ActionContext, type ActionResult } from './types.ts';

async function expand(workspace: string, pattern: string): Promise<string[]> {
  if (!/[*?[]/.test(pattern)) {
    const p = resolve(workspace, pattern);
    return existsSync(p) ? [p] : [];
  }
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|\\]/g, '\\$&')
      // One pass, so no placeholder: `**` (and its `/`) first, then `*` and `?`.
      .replace(/\*\*\/?|\*|\?/g, (m) => (m === '*' ? '[^/]*' : m === '?' ? '[^/]' : '.*'))}$`,
  );
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (re.test(relative(workspace, full))) out.push(full);
      else if (e.isDirectory()) await walk(full);
    }
  };
  await walk(workspace);
  return out;
}

function commonAncestor(paths: string[], isDir: boolean[]): string {
  const parts = paths.map((p, i) => (isDir[i] ? p : dirname(p)).split(sep));
  const first = parts[0];
  let n = first.length;
  for (const p of parts) {
    let i = 0;
    while (i < n && p[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).join(sep) || sep;
}

export async function uploadArtifact(ctx: ActionContext): Promise<ActionResult> {
  const name = ctx.inputs.name || 'artifact';
  const lines = (ctx.inputs.path ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.length) throw new ActionFailure('Input required and not supplied: path');
  const found: string[] = [];
  for (const l of lines.filter((x) => !x.startsWith('!'))) found.push(...(await expand(ctx.workspace, l)));
  const mode = ctx.inputs['if-no-files-found'] || 'warn';
  if (!found.length) {
    const msg = `No files were found with the provided path: ${lines.join(', ')}. No artifacts will be uploaded.`;
    if (mode === 'error') throw new ActionFailure(msg);
    if (mode === 'warn') ctx.log(`::warning::${msg}`);
    return {};
  }
  const dest = join(ctx.sandbox.artifacts, String(ctx.runId), name);
  if (existsSync(dest))
    throw new ActionFailure(
      `Failed to CreateArtifact: an artifact with this name already exists on the workflow run (${name})`,
    );
  const isDir = await Promise.all(found.map(async (f) => (await stat(f)).isDirectory()));
  const root = commonAncestor(found, isDir);
  let files = 0;
  for (const f of found) {
    await cp(f, join(dest, relative(root, f)), { recursive: true });
    files += isDir[found.indexOf(f)] ? (await readdir(f, { recursive: true })).length : 1;
  }
  ctx.log(
    `Uploaded artifact ${name} (${files} entries from ${relative(ctx.workspace, root) || '.'}) to the rehearsal store`,
  );
  return { outputs: { 'artifact-id': `${ctx.runId}-${name}`, 'artifact-url': `file://${dest}` } };
}

export async function downloadArtifact(ctx: ActionContext): Promise<ActionResult> {
  const name = ctx.inputs.name;
  if (!name) throw new ActionFailure('the rehearsal downloads artifacts by name');
  const runId = ctx.inputs['run-id'] || String(ctx.runId);
  if (runId !== String(ctx.runId) && !ctx.inputs['github-token'])
    throw new ActionFailure(
      `run-id ${runId} is another run: downloading from it needs github-token (with actions: read)`,
    );
  // Another run's artifacts come through the REST API with github-token: it needs actions: read.
  if (runId !== String(ctx.runId)) {
    const res = await fetch(
      `${ctx.sandbox.apiUrl}/repos/${ctx.inputs.repository || String(ctx.github.repository)}/actions/runs/${runId}/artifacts?name=${encodeURIComponent(name)}`,
      { headers: { authorization: `token ${ctx.inputs['github-token']}`, accept: 'application/vnd.github+json' } },
    );
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { message?: string };
      throw new ActionFailure(
        `Unable to download artifact(s): ${body.message ?? res.statusText} (HTTP ${res.status}; listing the artifacts of run ${runId} needs a github-token with actions: read)`,
      );
    }
  }
  const src = join(ctx.sandbox.artifacts, runId, name);
  if (!existsSync(src))
    throw new ActionFailure(`Unable to download artifact(s): Artifact not found for name: ${name} (run ${runId})`);
  const dest = resolve(ctx.workspace, ctx.inputs.path || '.');
  await mkdir(dest, { recursive: true });
  await cp(src, dest, { recursive: true });
  ctx.log(`Artifact ${name} of run ${runId} downloaded to ${dest}`);
  return { outputs: { 'download-path': dest } };
}
