/**
 * Shared entry for stage scripts: a stage runs as `node --import tsx training/stages/<name>.ts`
 * (that is the `cmd` dvc.yaml gives real DVC). Failures print what went wrong and what to do,
 * without a stack trace unless DEBUG is set, and exit non-zero so the runner keeps the old state.
 *
 * The pipeline runner can also host a stage script in its own process (`hostStage`): the script's
 * `isMain` guard then holds (core/platform/is-main.ts `asMain`) and its `runStage` call hands its
 * main over instead of running it, so `npm start` pays Node, tsx and TensorFlow.js start-up once
 * rather than once per stage, while the script, its arguments and what it writes stay exactly
 * those of the dvc.yaml command.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { asMain } from '../core/platform/is-main.ts';
import { createLogger, type Logger } from '../core/platform/log.ts';
import { loadParams } from '../core/schemas/params.ts';
import type { ParamKey, ParamsView, StageContract } from './contracts/contract.ts';

export { isMain } from '../core/platform/is-main.ts';

/**
 * How a stage runs: its arguments and environment, and where its log lines go. It runs in the
 * process's working directory (the repository root), as its command would.
 */
export interface StageIo {
  argv: string[];
  env: NodeJS.ProcessEnv;
  write?: (line: string) => void;
}

/** A stage script's main as its `runStage` call declared it; `run` resolves false on failure. */
export interface HostedStage {
  name: string;
  run(io: StageIo): Promise<boolean>;
}

/** True while `hostStage` imports a stage script: its `runStage` hands its main over. */
let hosting = false;
let handedOver: HostedStage | undefined;
const hosted = new Map<string, HostedStage | undefined>();
let queue: Promise<unknown> = Promise.resolve();

/**
 * Load the stage script `file` into this process and return its main, or undefined when the
 * script did not hand one over through `runStage`. The script is imported
 * under its own URL variant, so an earlier plain import of the same module (tests, the harness)
 * does not hide its top level; each script is loaded once per process.
 */
export function hostStage(file: string): Promise<HostedStage | undefined> {
  const url = `${pathToFileURL(resolve(file)).href}?pipeline-host`;
  if (hosted.has(url)) return Promise.resolve(hosted.get(url));
  const load = queue.then(async () => {
    if (hosted.has(url)) return hosted.get(url);
    hosting = true;
    handedOver = undefined;
    try {
      await asMain(url, () => import(url));
      hosted.set(url, handedOver);
      return handedOver;
    } finally {
      hosting = false;
      handedOver = undefined;
    }
  });
  queue = load.catch(() => undefined);
  return load;
}

async function runLogged(
  name: string,
  write: ((line: string) => void) | undefined,
  main: (log: Logger) => Promise<void>,
): Promise<boolean> {
  const log = createLogger({ component: name, write });
  const started = Date.now();
  const cpu = process.cpuUsage();
  try {
    await main(log);
    // CPU seconds beside the wall time: on a shared machine they say what the stage cost.
    const used = process.cpuUsage(cpu);
    log.info(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`, {
      cpu_s: Math.round((used.user + used.system) / 1e4) / 100,
    });
    return true;
  } catch (err) {
    const e = err as Error;
    log.error(`${name} failed: ${e.message}`);
    if (process.env.DEBUG && e.stack) (write ?? ((l) => process.stderr.write(l + '\n')))(e.stack);
    return false;
  }
}

export async function runStageCli(name: string, main: (log: Logger, argv: string[]) => Promise<void>): Promise<void> {
  if (!(await runLogged(name, undefined, (log) => main(log, process.argv.slice(2))))) process.exitCode = 1;
}

/** Minimal `--flag value` / `--flag=value` parser for stage options. */
export function parseFlags(argv: string[], known: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--'))
      throw new Error(`unexpected argument "${arg}"; options are: ${known.map((k) => '--' + k).join(', ')}`);
    const [key, inline] = arg.slice(2).split('=', 2);
    if (!known.includes(key))
      throw new Error(`unknown option --${key}; options are: ${known.map((k) => '--' + k).join(', ')}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`option --${key} needs a value`);
    out[key] = value;
  }
  return out;
}

export interface StageContext<K extends ParamKey, E extends string> {
  repoRoot: string;
  /** Only the params the contract declares (reading any other key throws). */
  params: ParamsView<K>;
  /** Only the environment variables the contract declares. */
  env: { [V in E]: string | undefined };
  /** Values of `extraFlags`. */
  flags: Record<string, string>;
  log: Logger;
}

/**
 * Run a stage from its contract: `--params <file>` (default params.yaml) is loaded, validated and
 * narrowed to the declared keys; the environment to the declared variables.
 */
export async function runStage<K extends ParamKey, E extends string>(
  contract: StageContract<K, E>,
  main: (ctx: StageContext<K, E>) => Promise<unknown>,
  extraFlags: string[] = [],
): Promise<void> {
  const run = (io: StageIo): Promise<boolean> =>
    runLogged(contract.name, io.write, async (log) => {
      const flags = parseFlags(io.argv, ['params', ...extraFlags]);
      const all = contract.paramKeys.length ? await loadParams(flags.params ?? 'params.yaml') : {};
      await main({
        repoRoot: process.cwd(),
        params: contract.params(all as ParamsView<K>),
        env: contract.readEnv(io.env),
        flags,
        log,
      });
    });
  if (hosting) {
    handedOver = { name: contract.name, run };
    return;
  }
  if (!(await run({ argv: process.argv.slice(2), env: process.env }))) process.exitCode = 1;
}
