/**
 * `dvc repro` without DVC: run the stages of dvc.yaml in dependency order, skipping those whose
 * dvc.lock entry still matches the workspace, and record each successful stage in dvc.lock
 * right away (atomically), so an interrupted run keeps everything that already finished.
 */
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { createLogger } from '../../core/platform/log.ts';
import type { Logger } from '../../core/platform/log.ts';
import { LOCK_FILE, lockEntry, openRepo, readLock, readPipeline, updateLock, writeLock } from '../../core/dvc/index.ts';
import type { RepoContext, StageSpec } from '../../core/dvc/index.ts';
import { buildGraph, selectStages } from './graph.ts';
import type { StageGraph } from './graph.ts';
import { runStageCommand } from './in-process.ts';
import { RAW_DIR } from '../contracts/paths.ts';
import { currentState, lockStageFrom, whyChanged } from './state.ts';
import type { StageState } from './state.ts';

export interface RunPipelineOptions {
  repoRoot: string;
  /** Stage name(s) to reproduce together with their upstream stages; all stages when omitted. */
  target?: string | string[];
  /** Run the selected stages even when up to date. */
  force?: boolean;
  /** Only report what would run and why. */
  dry?: boolean;
  /**
   * Stages to run even when up to date, each with the reason to print (npm start: a register whose
   * last decision this run's environment would make differently).
   */
  rerun?: Readonly<Record<string, string>>;
  /** Store cached outs in .dvc/cache after each stage, as `dvc repro` does (default true). */
  cacheOutputs?: boolean;
  log?: Logger;
  /** Where stage commands' output goes (default: this process's stdout/stderr). */
  stdout?: Writable;
  stderr?: Writable;
  env?: NodeJS.ProcessEnv;
  /**
   * Stage scripts (repo-relative) whose `node --import tsx <entry>` command may run inside this
   * process instead of a new one (in-process.ts); same script, arguments, outputs and dvc.lock.
   */
  inProcess?: readonly string[];
  /** Called as each stage's result is settled (npm start: the API loads once register is done). */
  onStageEnd?: (result: StageResult) => void;
}

export type StageStatus = 'ran' | 'skipped' | 'would-run' | 'failed' | 'not-run';

export interface StageResult {
  name: string;
  status: StageStatus;
  reasons: string[];
  durationMs: number;
  /** For failed stages: the command's exit code (null if killed by a signal or not started). */
  exitCode?: number | null;
  error?: string;
}

export interface PipelineResult {
  ok: boolean;
  stages: StageResult[];
  /** Name of the stage that failed, if any. */
  failed?: string;
  durationMs: number;
}

class StageFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null = null,
  ) {
    super(message);
  }
}

interface RunContext {
  opts: RunPipelineOptions;
  repo: RepoContext;
  log: Logger;
  graph: StageGraph;
}

function list(paths: string[]): string {
  return paths.map((p) => `'${p}'`).join(', ');
}

async function execute(ctx: RunContext, spec: StageSpec, before: StageState): Promise<StageState> {
  const { opts, repo, log } = ctx;
  const missingDeps = before.deps.filter((d) => !d.hash).map((d) => d.path);
  if (missingDeps.length) {
    // The raw store is made by ingesting (no stage of dvc.yaml makes it): a first run after pointing data.source elsewhere.
    const how = missingDeps.includes(RAW_DIR)
      ? `the raw store ${RAW_DIR}/ is filled by \`npm run ingest\` or \`npm start\` from params.yaml data.source, or fetched by \`npm run data:pull\` when data.dvc tracks a version`
      : 'create it (npm run data:pull for tracked data)';
    throw new StageFailure(
      `dependency ${list(missingDeps)} does not exist; ${how}, or fix the stage's deps in dvc.yaml`,
    );
  }
  const cwd = resolve(opts.repoRoot, spec.wdir);
  for (const cmd of Array.isArray(spec.cmd) ? spec.cmd : [spec.cmd]) {
    log.info(`> ${cmd}`);
    const r = await runStageCommand(cmd, {
      cwd,
      env: opts.env,
      stdout: opts.stdout,
      stderr: opts.stderr,
      inProcess: opts.inProcess,
      repoRoot: opts.repoRoot,
    });
    if (r.code !== 0) {
      throw new StageFailure(
        `command ${r.signal ? `was killed by ${r.signal}` : `exited with code ${r.code}`}: ${cmd}`,
        r.code,
      );
    }
  }
  const after = await currentState(opts.repoRoot, spec, (abs) => repo.hash(abs));
  const missingOuts = after.outs.filter((o) => !o.hash).map((o) => o.path);
  if (missingOuts.length)
    throw new StageFailure(`the command succeeded but did not create declared output ${list(missingOuts)}`, 0);
  const goneDeps = after.deps.filter((d) => !d.hash).map((d) => d.path);
  if (goneDeps.length) throw new StageFailure(`the command deleted its dependency ${list(goneDeps)}`, 0);
  if (opts.cacheOutputs !== false) {
    for (const [i, out] of spec.outs.entries()) {
      if (out.cache) await repo.cache.addHashed(after.outs[i].abs, after.outs[i].hash!);
    }
  }
  return after;
}

export async function runPipeline(opts: RunPipelineOptions): Promise<PipelineResult> {
  const started = Date.now();
  const log = opts.log ?? createLogger({ component: 'pipeline' });
  const def = await readPipeline(opts.repoRoot);
  if (!def) throw new Error(`no dvc.yaml in ${opts.repoRoot}`);
  const graph = buildGraph(opts.repoRoot, def.stages);
  const targets = opts.target === undefined ? [] : Array.isArray(opts.target) ? opts.target : [opts.target];
  const selected = targets.length ? selectStages(graph, targets) : graph.order;
  const repo = await openRepo({ repoRoot: opts.repoRoot, log });
  const ctx: RunContext = { opts, repo, log, graph };
  const lockPath = join(opts.repoRoot, LOCK_FILE);
  let lock = await readLock(lockPath);
  const yamlOrder = def.stages.map((s) => s.name);
  const results: StageResult[] = [];
  const wouldRun = new Set<string>();
  let failed: string | undefined;
  const record = (r: StageResult): void => {
    results.push(r);
    try {
      opts.onStageEnd?.(r);
    } catch (err) {
      log.warn(`after stage '${r.name}': ${(err as Error).message}`);
    }
  };

  for (const name of selected) {
    const { spec, upstream } = graph.nodes.get(name)!;
    if (failed) {
      record({ name, status: 'not-run', reasons: [`stage '${failed}' failed`], durationMs: 0 });
      continue;
    }
    const t0 = Date.now();
    try {
      if (spec.frozen) {
        record({ name, status: 'skipped', reasons: ['frozen'], durationMs: 0 });
        continue;
      }
      const before = await currentState(opts.repoRoot, spec, (abs) => repo.hash(abs));
      let reasons = opts.force ? ['forced (--force)'] : whyChanged(spec, before, lock.stages.get(name));
      if (reasons.length === 0 && opts.rerun?.[name]) reasons = [opts.rerun[name]];
      // In a dry run nothing executes, so a stage downstream of one that would run is reported too.
      if (opts.dry && !opts.force)
        reasons = [
          ...reasons,
          ...[...upstream].filter((u) => wouldRun.has(u)).map((u) => `upstream stage '${u}' would run`),
        ];
      if (reasons.length === 0) {
        log.info(`stage '${name}' is up to date, skipping`);
        record({ name, status: 'skipped', reasons: ['up to date'], durationMs: Date.now() - t0 });
        continue;
      }
      if (opts.dry) {
        wouldRun.add(name);
        log.info(`would run stage '${name}': ${reasons.join('; ')}`);
        record({ name, status: 'would-run', reasons, durationMs: 0 });
        continue;
      }
      log.info(`running stage '${name}': ${reasons.join('; ')}`);
      const after = await execute(ctx, spec, before);
      lock = updateLock(lock, name, lockEntry(lockStageFrom(spec, after)), yamlOrder);
      await writeLock(lockPath, lock);
      await repo.hashes.save();
      record({ name, status: 'ran', reasons, durationMs: Date.now() - t0 });
    } catch (err) {
      failed = name;
      const exitCode = err instanceof StageFailure ? err.exitCode : null;
      const message = (err as Error).message;
      log.error(`stage '${name}' failed: ${message}`);
      record({ name, status: 'failed', reasons: [], durationMs: Date.now() - t0, exitCode, error: message });
    }
  }
  await repo.hashes.save();
  return { ok: !failed, stages: results, failed, durationMs: Date.now() - started };
}

/**
 * Like `dvc commit`: record the workspace as it is (deps, params, outs) in dvc.lock for every
 * stage whose deps and outs all exist, without running anything. Returns the stages recorded.
 */
export async function commitPipeline(opts: { repoRoot: string; log?: Logger }): Promise<string[]> {
  const log = opts.log ?? createLogger({ component: 'pipeline' });
  const def = await readPipeline(opts.repoRoot);
  if (!def) throw new Error(`no dvc.yaml in ${opts.repoRoot}`);
  const repo = await openRepo({ repoRoot: opts.repoRoot, log });
  const lockPath = join(opts.repoRoot, LOCK_FILE);
  let lock = await readLock(lockPath);
  const recorded: string[] = [];
  for (const spec of def.stages) {
    const state = await currentState(opts.repoRoot, spec, (abs) => repo.hash(abs));
    const missing = [...state.deps, ...state.outs].filter((p) => !p.hash).map((p) => p.path);
    if (missing.length) {
      log.warn(`stage '${spec.name}' not recorded: ${list(missing)} missing`);
      continue;
    }
    lock = updateLock(
      lock,
      spec.name,
      lockEntry(lockStageFrom(spec, state)),
      def.stages.map((s) => s.name),
    );
    recorded.push(spec.name);
  }
  await writeLock(lockPath, lock);
  await repo.hashes.save();
  return recorded;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A fixed-width table: stage, status, duration, why. */
export function formatSummary(result: PipelineResult): string {
  const rows = [['stage', 'status', 'duration', 'details']].concat(
    result.stages.map((s) => [
      s.name,
      s.status,
      s.status === 'ran' || s.status === 'failed' ? seconds(s.durationMs) : '-',
      s.error ?? s.reasons.join('; '),
    ]),
  );
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => [0, 1, 2].map((i) => r[i].padEnd(widths[i])).join('  ') + '  ' + r[3]);
  lines.push(
    result.ok
      ? `pipeline finished in ${seconds(result.durationMs)}`
      : `pipeline FAILED at stage '${result.failed}' after ${seconds(result.durationMs)}`,
  );
  return lines.map((l) => l.trimEnd()).join('\n');
}
