/**
 * `npm run ci:rehearse -- <workflow> [event]`: run a workflow FROM ITS YAML, locally, against
 * stand-ins for everything remote (rehearse/): GitHub's own parser and expression evaluator, the
 * runner's env and file-command semantics, each pinned action replaced by a stand-in that does to
 * the workspace and environment what that release does, recorded stubs for gcloud, docker,
 * kubectl, terraform, gh, dvc, and the loopback GitHub API. `--list` shows the scenarios;
 * `--all` runs every one; `--workflows=<dir>` reads the workflow files from another directory
 * (e.g. a modified copy) while the repository content stays this checkout's.
 * Env: REHEARSE_KEEP=1 keeps the sandbox; REHEARSE_NPM_RECORD (ERE) records matching npm commands
 * instead of running them; REHEARSE_STEP_TIMEOUT_MS caps every step.
 */
import { join, resolve } from 'node:path';
import { rehearse, scenarioNames } from './index.ts';

const REPO = join(import.meta.dirname, '..', '..');
const workflowsFlag = process.argv.slice(2).find((a) => a.startsWith('--workflows='));
const workflowsDir = workflowsFlag ? resolve(workflowsFlag.slice('--workflows='.length)) : undefined;
const args = process.argv.slice(2).filter((a) => a !== workflowsFlag);

async function one(workflow: string, event: string | undefined): Promise<boolean> {
  const started = Date.now();
  const r = await rehearse({
    source: REPO,
    workflow,
    event,
    workflowsDir,
    npmRecord: process.env.REHEARSE_NPM_RECORD,
    keep: process.env.REHEARSE_KEEP === '1',
  });
  const byTool = new Map<string, number>();
  for (const c of r.calls) byTool.set(c.cmd, (byTool.get(c.cmd) ?? 0) + 1);
  console.log(
    `\nstand-in calls: ${[...byTool].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'} (${r.sandbox.callLog})`,
  );
  const gh = r.sandbox.fake.calls.map((c) => `${c.method} ${c.path}`);
  console.log(`GitHub API calls: ${gh.length ? gh.join(', ') : 'none'}`);
  for (const [w, s] of Object.entries(r.settings))
    console.log(`${w}.yml reads vars ${s.vars.join(', ') || '-'}; secrets ${s.secrets.join(', ') || '-'}`);
  console.log(
    `\nrehearsal ${workflow} ${event ?? ''}: ${r.ok ? 'PASSED' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s${r.ok && process.env.REHEARSE_KEEP !== '1' ? '' : `; sandbox kept in ${r.sandbox.root}`}`,
  );
  for (const f of r.failures) console.log(`  ✗ ${f}`);
  return r.ok;
}

if (args[0] === '--list' || !args.length) {
  console.log(
    `usage: npm run ci:rehearse -- <workflow> [event] [--workflows=<dir>] | --all | --list\n${scenarioNames()
      .map((n) => `  ${n}`)
      .join('\n')}`,
  );
  process.exitCode = args.length ? 0 : 2;
} else if (args[0] === '--all') {
  let ok = true;
  for (const name of scenarioNames()) {
    const [w, e] = name.split(' ');
    ok = (await one(w, e)) && ok;
  }
  process.exitCode = ok ? 0 : 1;
} else {
  try {
    process.exitCode = (await one(args[0], args[1])) ? 0 : 1;
  } catch (err) {
    console.error(`ci:rehearse: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
