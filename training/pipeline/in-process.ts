/**
 * Running a stage command inside the runner's process. A stage command is a Node start-up
 * (`node --import tsx <entry>`: tsx, TensorFlow.js, zod, vega — 1–3.5 s each here) around seconds
 * of work; `npm start` and `npm run pipeline` host the known stage scripts instead, so that cost is
 * paid once. Only a command that is exactly `node --import tsx <entry>` for a listed entry, in the
 * process's working directory and environment, is hosted; anything else runs through the shell as
 * `dvc repro` would. A hosted script must hand its main over through `runStage` (stage-cli.ts).
 */
import { relative, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { hostStage } from '../stage-cli.ts';
import { PIPELINE_STAGES } from '../contracts/index.ts';
import { runShell, type CommandResult } from './shell.ts';

export interface CommandRun {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  stdout?: Writable;
  stderr?: Writable;
  /** Repo-relative stage scripts that may run in this process. */
  inProcess?: readonly string[];
  repoRoot: string;
}

const STAGE_COMMAND = /^node --import tsx (\S+\.ts)$/;

/** The script `cmd` runs when this process may host it, else undefined. */
export function hostableEntry(cmd: string, run: CommandRun): string | undefined {
  if (!run.inProcess?.length) return undefined;
  // Stage code reads a few variables from process.env itself (DEBUG, LOG_LEVEL, TFJS_BACKEND,
  // GITHUB_SHA), and paths relative to the working directory: both must be the command's own.
  if (run.env && run.env !== process.env) return undefined;
  if (resolve(run.cwd) !== process.cwd()) return undefined;
  const m = STAGE_COMMAND.exec(cmd.trim());
  if (!m) return undefined;
  const entry = relative(resolve(run.repoRoot), resolve(run.cwd, m[1])).split('\\').join('/');
  return run.inProcess.includes(entry) ? entry : undefined;
}

/** Run one stage command, hosted when it can be, and say how it ended as a process would. */
export async function runStageCommand(cmd: string, run: CommandRun): Promise<CommandResult> {
  const entry = hostableEntry(cmd, run);
  if (!entry) return runShell(cmd, { cwd: run.cwd, env: run.env, stdout: run.stdout, stderr: run.stderr });
  // A script that cannot even load (a syntax error) is left to the shell, whose node says where.
  const stage = await hostStage(resolve(run.repoRoot, entry)).catch(() => null);
  if (stage === null) return runShell(cmd, { cwd: run.cwd, env: run.env, stdout: run.stdout, stderr: run.stderr });
  // Its top level has run here already: running it again as a command could do its work twice.
  if (!stage)
    throw new Error(
      `${entry} is hosted in-process but did not hand its main over: make it call runStage (training/stage-cli.ts) under its isMain guard, or run with PIPELINE_IN_PROCESS=0`,
    );
  const stderr = run.stderr;
  const ok = await stage.run({
    argv: [],
    env: process.env,
    write: stderr ? (line) => void stderr.write(line + '\n') : undefined,
  });
  return { code: ok ? 0 : 1, signal: null };
}

/**
 * The stage scripts `npm start` and `npm run pipeline` host: every dvc.yaml stage of this product,
 * unless PIPELINE_IN_PROCESS=0 asks for one process per stage as `dvc repro` runs them (to measure
 * a stage's own peak memory, or to rule the hosting out when a stage misbehaves).
 */
export function productStageEntries(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  return env.PIPELINE_IN_PROCESS === '0' ? [] : PIPELINE_STAGES.map((s) => s.entry);
}
