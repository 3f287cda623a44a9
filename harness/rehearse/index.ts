/**
 * `rehearse()`: run one scenario (a workflow and an event, see scenarios.ts) from the workflow
 * files themselves, in a fresh sandbox, check the effects it declares once it ran green, and
 * report every run, the CLI stand-in calls, the GitHub API calls and the repository settings each
 * workflow read. Steps see PATH and the runner's variables only, never this shell's environment.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { git, createSandbox, type RehearsalSandbox } from './sandbox.ts';
import { SCENARIOS, repositoryVariables, type ScenarioContext } from './scenarios.ts';
import { startApi, startPrometheus, type Started } from './stand-ins.ts';
import type { EffectContext } from './effects.ts';
import { runWorkflow, triggerMismatch } from './run.ts';
import type { SelfHostedRunner } from './runners.ts';
import { loadWorkflow, referencedSettings } from './workflow.ts';
import type { StubCall } from './stubs/state.ts';
import type { ActionPin, RunResult } from './types.ts';

export interface RehearseOptions {
  /** The checkout whose content the stand-in origin gets (HEAD + uncommitted tracked changes). */
  source: string;
  workflow: string;
  event?: string;
  /** Where the workflow files are read from (default <source>/.github/workflows): tests point it at a modified copy. */
  workflowsDir?: string;
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** npm commands (an ERE over `npm <args>`) recorded instead of run, e.g. `test$` to keep .ci/run bounded. */
  npmRecord?: string;
  /** Calls of the CLI stand-ins (an ERE over `<tool> <args>`, e.g. `dvc push`) recorded instead of run. */
  record?: string;
  /** Registry directory with a production model for the deploy scenarios (default <source>/registry). */
  registrySeed?: string;
  /** Self-hosted runners the repository has (default none: only GitHub-hosted labels exist). */
  selfHosted?: SelfHostedRunner[];
  print?: (line: string) => void;
  keep?: boolean;
}

export interface Rehearsal {
  ok: boolean;
  runs: RunResult[];
  failures: string[];
  calls: StubCall[];
  sandbox: RehearsalSandbox;
  settings: Record<string, { vars: string[]; secrets: string[] }>;
  prometheusQueries: { query: string; auth: string | null }[];
}

async function readCalls(file: string): Promise<StubCall[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StubCall);
}

export function scenarioNames(): string[] {
  return Object.entries(SCENARIOS).flatMap(([w, events]) => Object.keys(events).map((e) => `${w} ${e}`));
}

export async function rehearse(o: RehearseOptions): Promise<Rehearsal> {
  const print = o.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const events = SCENARIOS[o.workflow];
  if (!events) throw new Error(`no scenario for workflow "${o.workflow}": one of ${Object.keys(SCENARIOS).join(', ')}`);
  const eventName = o.event ?? Object.keys(events)[0];
  const scenario = events[eventName];
  if (!scenario)
    throw new Error(`workflow ${o.workflow} has no "${eventName}" scenario: one of ${Object.keys(events).join(', ')}`);
  const lock: Record<string, ActionPin> = JSON.parse(
    readFileSync(join(o.source, '.github', 'actions.lock.json'), 'utf8'),
  ).actions;
  const workflowsDir = o.workflowsDir ?? join(o.source, '.github', 'workflows');
  const sandbox = await createSandbox(o.source);
  print(
    `sandbox ${sandbox.root}: origin github.com/${sandbox.repository} (bare), CLI stand-ins, loopback GitHub ${sandbox.apiUrl}`,
  );
  const started: Started[] = [];
  let prom: Awaited<ReturnType<typeof startPrometheus>> | null = null;
  const vars = { ...repositoryVariables(sandbox), ...o.vars };
  const secrets = { API_SMOKE_TOKEN: '', ...o.secrets };
  // A step sees a runner's environment, not this shell's: only PATH (where node, git, bash… are)
  // and the rehearsal's own knobs cross over (job.ts adds the runner's variables).
  const hostEnv: Record<string, string> = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
  if (process.env.REHEARSE_STEP_TIMEOUT_MS) hostEnv.REHEARSE_STEP_TIMEOUT_MS = process.env.REHEARSE_STEP_TIMEOUT_MS;
  if (o.npmRecord) hostEnv.REHEARSE_NPM_RECORD = o.npmRecord;
  const record = o.record ?? process.env.REHEARSE_RECORD;
  if (record) hostEnv.REHEARSE_RECORD = record;
  const runs: RunResult[] = [];
  const settings: Rehearsal['settings'] = {};
  let runId = 9000;
  let originBefore: EffectContext['before'] | undefined;
  const originState = async (): Promise<EffectContext['before']> => ({
    heads: Object.fromEntries(
      (await git(sandbox.origin, 'for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads'))
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ') as [string, string]),
    ),
    tags: (await git(sandbox.origin, 'tag', '--list')).split('\n').filter(Boolean),
  });
  const ctx: ScenarioContext = {
    sandbox,
    vars,
    secrets,
    print,
    registrySeed: o.registrySeed ?? join(o.source, 'registry'),
    startApi: async (registryUrl) => {
      const a = await startApi(o.source, registryUrl);
      started.push(a);
      return a.port;
    },
    run: async (name, event, extra = {}) => {
      const file = join(workflowsDir, `${name}.yml`);
      const workflow = await loadWorkflow(file);
      const runVars = { ...vars, ...extra };
      if (name === 'deploy-api' && runVars.DEPLOY_STRATEGY === 'canary' && !runVars.PROMETHEUS_URL) {
        prom ??= await startPrometheus();
        runVars.PROMETHEUS_URL = prom.url;
      }
      settings[name] = referencedSettings(workflow.source);
      const missing = settings[name].vars.filter((v) => !(v in runVars));
      print(
        `\n━━ ${workflow.name} (${name}.yml) on ${event.name} ${event.ref} @ ${event.sha.slice(0, 7)} — run ${runId + 1}`,
      );
      print(
        `reads vars: ${settings[name].vars.join(', ') || '-'}; secrets: ${settings[name].secrets.join(', ') || '-'}${missing.length ? ` (not set here: ${missing.join(', ')}; their defaults apply)` : ''}`,
      );
      // A push payload's `before` is the sha the branch pointed at (all zeros for a new branch).
      const before = event.payload.before as string | undefined;
      const changed =
        event.name === 'push' && /^0+$/.test(String(before))
          ? undefined
          : await git(
              sandbox.origin,
              'diff',
              '--name-only',
              event.name === 'pull_request' ? `${event.sha}^1` : String(before),
              event.name === 'pull_request' ? `${event.sha}^2` : event.sha,
            ).then(
              (t) => t.split('\n').filter(Boolean),
              () => undefined,
            );
      const mismatch = triggerMismatch(workflow, event, changed);
      if (mismatch) throw new Error(`${name}.yml would not run: ${mismatch}`);
      originBefore ??= await originState();
      const result = await runWorkflow({
        workflow,
        event,
        sandbox,
        runId: ++runId,
        vars: runVars,
        secrets,
        lock,
        hostEnv,
        selfHosted: o.selfHosted ?? [],
        print,
      });
      print(
        `━━ ${workflow.name}: ${result.conclusion.toUpperCase()}${result.failures.length ? `\n${result.failures.map((f) => `   ✗ ${f}`).join('\n')}` : ''}`,
      );
      runs.push(result);
      return result;
    },
  };
  let error: string | null = null;
  const missing: string[] = [];
  try {
    await scenario.run(ctx);
    // A green scenario must have done what it is for: a silent no-op is a failure.
    if (runs.length && runs.every((r) => r.conclusion === 'success')) {
      const effectCtx: EffectContext = {
        sandbox,
        runs,
        calls: await readCalls(sandbox.callLog),
        before: originBefore ?? (await originState()),
      };
      print('\nexpected effects:');
      for (const e of scenario.effects) {
        const why = await e.check(effectCtx);
        if (why && typeof why === 'object') print(`  ○ ${e.what}: ${why.note}`);
        else print(`  ${why ? '✗' : '✓'} ${e.what}${why ? `: ${why}` : ''}`);
        if (typeof why === 'string') missing.push(`expected effect missing: ${e.what}: ${why}`);
      }
    }
  } catch (err) {
    error = (err as Error).message;
    print(`\nrehearsal stopped: ${error}`);
  } finally {
    for (const s of started) await s.stop();
    if (prom) await (prom as { stop(): Promise<void> }).stop();
    await sandbox.close();
  }
  const queries = (prom as { queries?: Rehearsal['prometheusQueries'] } | null)?.queries ?? [];
  if (queries.length)
    print(
      `Prometheus stand-in: ${queries.length} queries, Authorization: ${[...new Set(queries.map((q) => q.auth?.replace(/ .*/, ' …') ?? 'none'))].join(', ')}`,
    );
  const calls = await readCalls(sandbox.callLog);
  const failures = [...runs.flatMap((r) => r.failures), ...missing, ...(error ? [error] : [])];
  const result: Rehearsal = {
    ok: failures.length === 0 && runs.length > 0,
    runs,
    failures,
    calls,
    sandbox,
    settings,
    prometheusQueries: queries,
  };
  if (!o.keep && result.ok) await rm(sandbox.root, { recursive: true, force: true });
  return result;
}
