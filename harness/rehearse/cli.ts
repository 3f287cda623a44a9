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
import { defineCli, UsageError } from '../../core/platform/cli.ts';
import { rehearse, scenarioNames } from './index.ts';

const REPO = join(import.meta.dirname, '..', '..');
const SYNOPSIS = 'usage: npm run ci:rehearse -- <workflow> [event] [--workflows=<dir>] | --all | --list';
const USAGE = `${SYNOPSIS}
  run a workflow from its YAML locally, against stand-ins for everything remote
  --list             list the scenarios (<workflow> <event>)
  --all              run every scenario
  --workflows=<dir>  read the workflow files from <dir> (e.g. a modified copy)
env: REHEARSE_KEEP=1 (keep the sandbox), REHEARSE_NPM_RECORD (ERE of npm commands to record), REHEARSE_STEP_TIMEOUT_MS
exit: 0 passed, 1 a rehearsal failed, 2 usage error
scenarios:
${scenarioNames()
  .map((n) => `  ${n}`)
  .join('\n')}`;

async function one(workflow: string, event: string | undefined, workflowsDir: string | undefined): Promise<boolean> {
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

/** The scenario a `<workflow> [event]` names, or a usage error listing the ones there are. */
function checkScenario(workflow: string, event: string | undefined): void {
  const names = scenarioNames();
  const events = names.filter((n) => n.startsWith(`${workflow} `)).map((n) => n.slice(workflow.length + 1));
  if (!events.length)
    throw new UsageError(
      `no scenario for workflow "${workflow}": one of ${[...new Set(names.map((n) => n.split(' ')[0]))].join(', ')}`,
    );
  if (event !== undefined && !events.includes(event))
    throw new UsageError(`workflow ${workflow} has no "${event}" scenario: one of ${events.join(', ')}`);
}

await defineCli(
  {
    name: 'ci:rehearse',
    usage: USAGE,
    options: {
      workflows: { type: 'string' },
      list: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
    },
    positionals: true,
  },
  async ({ values, positionals }, io) => {
    const workflowsDir = values.workflows === undefined ? undefined : resolve(values.workflows);
    if (values.list) {
      io.stdout(
        `${SYNOPSIS}\n${scenarioNames()
          .map((n) => `  ${n}`)
          .join('\n')}\n`,
      );
      return 0;
    }
    if (values.all) {
      if (positionals.length) throw new UsageError('--all runs every scenario: give no workflow');
      let ok = true;
      for (const name of scenarioNames()) {
        const [w, e] = name.split(' ');
        ok = (await one(w, e, workflowsDir)) && ok;
      }
      return ok ? 0 : 1;
    }
    if (positionals.length === 0) throw new UsageError('no workflow given (--list shows the scenarios)');
    if (positionals.length > 2) throw new UsageError(`too many arguments: ${positionals.join(' ')}`);
    const [workflow, event] = positionals;
    checkScenario(workflow, event);
    // The summary above lists the failures.
    return (await one(workflow, event, workflowsDir)) ? 0 : 1;
  },
).main();
