/**
 * `kill -9` trials: in a temporary copy of the project fed a small flights CSV, run ingest,
 * `data:push` and the pipeline as child processes, SIGKILL their whole process group at a seeded
 * random moment, run the same command again to completion, and check that the repository is
 * consistent:
 *   - data.dvc records exactly the raw store, and `dvc status` shows every tracked out intact
 *     in the workspace and the cache (and on the remote after a push);
 *   - every object on the remote hashes to its name;
 *   - no temporary file of an atomic write is left anywhere (the re-run swept them);
 *   - dvc.lock matches the outputs (a dry run of the pipeline has nothing to do);
 *   - the model registry verifies.
 * Ingest and push are killed within 60 ms of their first write (their write phase on this small
 * data comes after ≈ 2 s of process start-up), the pipeline anywhere in its run. The project is
 * cumulative: each trial starts from the state the previous one left.
 * Timing: setup is one ingest; then an ingest or push trial is 2–3 process runs (≈ 2–3 s each,
 * mostly start-up) and a pipeline trial an ingest plus up to two pipeline runs (validate →
 * register). The trials rotate ingest, push, pipeline; measured here with the machine loaded
 * (load average 15 on 2 cores): 4 trials 43 s, 6 trials 89 s.
 */
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { seededRandom } from '../../core/platform/random.ts';
import { memoryLogger } from '../../core/platform/log.ts';
import { initDvcRepo } from '../../core/dvc/config.ts';
import { md5File, md5Bytes } from '../../core/dvc/hash.ts';
import { status } from '../../core/dvc/status.ts';
import { compareWithRecorded } from '../../core/dvc/recorded.ts';
import { parseTempName } from '../../core/platform/temp-files.ts';
import { openRegistry } from '../../core/registry/index.ts';
import { runPipeline } from '../../training/pipeline/runner.ts';
import { flightsCsv } from '../testing/training/fixtures.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { defineCli, UsageError } from '../../core/platform/cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = 'flight-delay';
const BATCH = 150;
/** The pipeline up to register (the report stage only renders charts: slow, and nothing new to break). */
const TARGET = 'register';

export type Op = 'ingest' | 'push' | 'pipeline';
const COMMANDS: Record<Op, string[]> = {
  ingest: ['training/stages/ingest.ts'],
  push: ['training/dvc/cli.ts', 'push'],
  pipeline: ['training/pipeline/cli.ts', TARGET],
};

export interface KillTrialsResult {
  consistent: number;
  total: number;
  details: string[];
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  output: string;
}

/**
 * When to SIGKILL a run: `afterMs` after it starts, or, with `watch`, after the first change under
 * that directory (so short write phases after a long process start-up are hit, not missed).
 */
interface KillPlan {
  afterMs: number;
  watch?: string;
}

/** Run `op` in the project; with a kill plan, SIGKILL its whole process group as planned. */
function run(project: string, op: Op, kill?: KillPlan): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', ...COMMANDS[op]], {
    cwd: project,
    detached: true, // its own process group: the kill takes the pipeline's stage processes too
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_FORMAT: 'text', TFJS_BACKEND: process.env.TFJS_BACKEND ?? 'wasm' },
  });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-4000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-4000)));
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer ??= setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, kill!.afterMs);
  };
  const watcher = kill?.watch ? watch(kill.watch, { recursive: true }, arm) : undefined;
  if (kill && !kill.watch) arm();
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      watcher?.close();
      resolve({ code, signal, ms: Date.now() - started, output });
    });
  });
}

export async function runOk(project: string, op: Op): Promise<Run> {
  const r = await run(project, op);
  if (r.code !== 0) throw new Error(`${op} failed in ${project} (exit ${r.code ?? r.signal}):\n${r.output}`);
  return r;
}

/** A copy of the project's code and pipeline, fed a small CSV, with fast training params. */
export async function makeProject(): Promise<string> {
  const project = await mkdtemp(join(tmpdir(), 'kill-trials-'));
  const skip = (src: string) => !/\.test\.ts$|\/testdata(\/|$)|\/bench(\/|$)/.test(src);
  for (const dir of ['core', 'training'])
    await cp(join(ROOT, dir), join(project, dir), { recursive: true, filter: skip });
  for (const file of ['dvc.yaml', 'package.json', 'tsconfig.json']) await cp(join(ROOT, file), join(project, file));
  await symlink(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'dir');
  await writeFile(join(project, 'flights.csv'), flightsCsv(BATCH * 12));
  const params = parse(await readFile(join(ROOT, 'params.yaml'), 'utf8'));
  params.data = { ...params.data, source: 'flights.csv', format: 'csv' };
  params.ingest = { ...params.ingest, batch_size: BATCH, batches_per_run: 1, max_batches: 0 };
  params.train = {
    ...params.train,
    max_epochs: 1,
    patience: 1,
    batch_size: 256,
    golden_examples: 4,
    candidates: [{ name: 'logreg', model: 'logistic', learning_rate: 0.05 }],
  };
  await writeFile(join(project, 'params.yaml'), stringify(params));
  await initDvcRepo(project);
  return project;
}

async function walk(dir: string, skip: Set<string>): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (skip.has(e.name)) continue;
    const path = join(dir, e.name);
    out.push(path);
    if (e.isDirectory()) out.push(...(await walk(path, skip)));
  }
  return out;
}

/** Problems found in the project after `op` ran again to completion (empty when consistent). */
export async function checkConsistent(project: string, op: Op): Promise<string[]> {
  const problems: string[] = [];
  const log = memoryLogger();
  // First, before anything below opens the DVC cache (opening it sweeps stale temporaries).
  const leftovers = (await walk(project, new Set(['node_modules', 'core', 'training']))).filter(
    (p) => parseTempName(p.split('/').pop()!) !== null,
  );
  if (leftovers.length) problems.push(`temporary files left: ${leftovers.map((p) => relative(project, p)).join(', ')}`);
  const data = await compareWithRecorded('data', { repoRoot: project, log });
  if (data.recorded !== data.current?.md5)
    problems.push(`data.dvc records ${data.recorded}, the store is ${data.current?.md5}`);
  for (const s of await status({ repoRoot: project, log, cloud: op === 'push' })) {
    if (s.workspace !== 'ok' || s.notInCache || (op === 'push' && s.notInRemote)) {
      problems.push(
        `dvc status ${s.path}: workspace ${s.workspace}, ${s.notInCache} not in cache${op === 'push' ? `, ${s.notInRemote} not on the remote` : ''}`,
      );
    }
  }
  const remote = join(project, '.dvc-remote', 'files', 'md5');
  for (const path of await walk(remote, new Set())) {
    const name = relative(remote, path).split('/').join('');
    if (!/^[0-9a-f]{32}(\.dir)?$/.test(name)) continue;
    const md5 = name.endsWith('.dir') ? md5Bytes(await readFile(path)) + '.dir' : await md5File(path);
    if (md5 !== name) problems.push(`remote object ${name} hashes to ${md5}`);
  }
  if (op === 'pipeline') {
    const dry = await runPipeline({ repoRoot: project, target: TARGET, dry: true, log });
    const stale = dry.stages.filter((s) => s.status !== 'skipped');
    if (stale.length)
      problems.push(
        `dvc.lock does not match the outputs: ${stale.map((s) => `${s.name} (${s.reasons.join('; ')})`).join(', ')}`,
      );
    const registry = await openRegistry(join(project, 'registry'), { log });
    if ((await registry.listModels()).includes(MODEL)) {
      const v = await registry.verify(MODEL);
      if (!v.ok) problems.push(`registry: ${v.problems.join('; ')}`);
    }
  }
  return problems;
}

export async function runKillTrials(opts: {
  trials: number;
  log?: (m: string) => void;
}): Promise<{ consistent: number; total: number; details: string[] }> {
  const say = opts.log ?? (() => {});
  const random = seededRandom(20261129);
  const project = await makeProject();
  const details: string[] = [];
  let consistent = 0;
  try {
    // Setup: the first data version. Kill moments are drawn within how long each op takes, first
    // guessed from the ingest (process start-up dominates), then the longest complete run seen.
    const first = (await runOk(project, 'ingest')).ms;
    const took: Record<Op, number> = { ingest: first, push: first, pipeline: 5 * first };
    say(`kill trials in ${project}: first ingest took ${first} ms`);
    const ops: Op[] = ['ingest', 'push', 'pipeline'];
    for (let i = 0; i < opts.trials; i++) {
      const op = ops[i % ops.length];
      // Give the op something to do: new data for push and the pipeline (ingest appends anyway).
      if (op !== 'ingest') await runOk(project, 'ingest');
      // Ingest and push: within 60 ms of their first write to the store / the remote (their write
      // phase on this small data). The pipeline writes all along: anywhere in its run.
      const watchDir =
        op === 'ingest' ? join(project, 'data') : op === 'push' ? join(project, '.dvc-remote') : undefined;
      if (watchDir) await mkdir(watchDir, { recursive: true });
      const at = watchDir ? Math.round(random() * 60) : Math.round(random() * took[op]);
      const killed = await run(project, op, { afterMs: at, watch: watchDir });
      let problems: string[];
      try {
        const again = await runOk(project, op);
        if (killed.signal !== 'SIGKILL') took[op] = Math.max(took[op], killed.ms);
        else took[op] = Math.max(took[op], again.ms);
        problems = await checkConsistent(project, op);
      } catch (err) {
        problems = [(err as Error).message.split('\n').slice(0, 6).join(' | ')];
      }
      const moment = `${at} ms after ${watchDir ? 'its first write' : 'it started'}`;
      const what = killed.signal === 'SIGKILL' ? `killed ${moment}` : `finished before the kill ${moment}`;
      const line = `trial ${i + 1} ${op} ${what}: ${problems.length ? `INCONSISTENT: ${problems.join('; ')}` : 'consistent after re-run'}`;
      if (!problems.length) consistent++;
      details.push(line);
      say(line);
    }
  } finally {
    if (!process.env.KEEP_KILL_TRIALS) await rm(project, { recursive: true, force: true });
  }
  return { consistent, total: opts.trials, details };
}

const USAGE = `usage: node --import tsx harness/adversarial/kill-trials.ts [trials]
  SIGKILL ingest, data:push and the pipeline at random moments in a temporary project, re-run, and
  check the result is consistent; trials defaults to 4 (npm run test:adversarial runs them too)
exit: 0 every trial consistent, 1 one was not, 2 usage error`;

if (isMain(import.meta.url))
  await defineCli({ name: 'kill-trials', usage: USAGE, positionals: true }, async ({ positionals }, io) => {
    if (positionals.length > 1) throw new UsageError(`one argument (the number of trials), got ${positionals.length}`);
    const trials = Number(positionals[0] ?? 4);
    if (!Number.isInteger(trials) || trials < 1)
      throw new UsageError(`trials must be a whole number ≥ 1, got "${positionals[0]}"`);
    const started = Date.now();
    const r = await runKillTrials({ trials, log: (m) => io.stdout(m + '\n') });
    io.stdout(
      `kill -9 trials: ${r.consistent}/${r.total} consistent in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    // The lines above name the inconsistent trials.
    return r.consistent === r.total ? 0 : 1;
  }).main();
