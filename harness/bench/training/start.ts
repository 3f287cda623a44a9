/**
 * `npm run bench:start`: time to serving of `npm start` on a fresh clone — from the command to
 * the first answered `POST /predict` — with where the seconds went (start-up, ingest, each
 * stage, the API listening). Each run clones the repository's HEAD (or --ref) into a temporary
 * directory, links this checkout's node_modules into it (as `npm install` would have left it),
 * runs `npm start`'s command there and polls /predict. This machine is shared: the load average
 * before and after each run is printed beside it, and `--ref` runs of two commits alternate so
 * both see the same load. Prints one JSON document; progress goes to stderr.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { defineCli, UsageError } from '../../../core/platform/cli.ts';
import { startTimeline, type StartTimeline } from './start-timeline.ts';

/** The targets: serving within 25 s of the command, the pipeline within 20 s (on a quiet machine). */
export const TARGET_SERVING_S = 25;
export const TARGET_PIPELINE_S = 20;

const RECORD = { date: '2001-01-09T14:35:00Z', distance: 733, origin: 'ATL', destination: 'ORD' };

const USAGE = `usage: npm run bench:start [-- --runs N] [--ref COMMIT]… [--from DIR] [--timeout S] [--cold-tsx] [--keep]
  clones HEAD (or each --ref, alternating) into a temporary directory, links node_modules, runs
  \`npm start\`'s command there and polls POST /predict until it answers; prints one JSON document:
  seconds to serving and to the pipeline's end, per stage, with the load average around each run.
  --runs N       runs per ref (default 1)
  --ref COMMIT   a commit to clone instead of HEAD; give it twice to compare two commits
  --from DIR     the repository to clone (default: this checkout; its node_modules is linked either way)
  --timeout S    give up on a run after S seconds (default 600)
  --cold-tsx     an empty tsx cache (TMPDIR of its own), as on a machine that never ran the project
  --keep         keep the clones (their paths are printed)
exit: 0 done (the targets are reported, not enforced), 1 a run failed, 2 usage error`;

export interface StartRun extends StartTimeline {
  ref: string;
  load_before: number;
  load_after: number;
  meets_targets: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

async function predictOk(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(RECORD),
      signal: AbortSignal.timeout(2000),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function cloneAt(from: string, ref: string, cold: boolean): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-start-'));
  try {
    execFileSync('git', ['clone', '-q', from, dir]);
    execFileSync('git', ['-C', dir, 'checkout', '-q', ref]);
    await symlink(resolve('node_modules'), join(dir, 'node_modules'));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: 'json', REGISTER_PROMOTE: 'allow' };
  if (cold) env.TMPDIR = await mkdtemp(join(tmpdir(), 'bench-start-tsx-'));
  return { dir, env };
}

async function runOnce(from: string, ref: string, o: { timeoutS: number; cold: boolean; keep: boolean }) {
  const { dir, env } = await cloneAt(from, ref, o.cold);
  const port = await freePort();
  const load_before = loadavg()[0];
  const launched = Date.now();
  // `npm start`'s own command (package.json), without npm's start-up in front of it.
  const child = spawn(process.execPath, ['--import', 'tsx', 'training/cli.ts', 'start', '--serve'], {
    cwd: dir,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  child.stdout.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr.on('data', (b: Buffer) => (log += b.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  let served: number | undefined;
  try {
    while (!exited && Date.now() - launched < o.timeoutS * 1000) {
      if (await predictOk(port)) {
        served = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      const signal = (s: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, s);
        } catch {
          // the group is already gone
        }
      };
      signal('SIGTERM');
      // A run that ignores SIGTERM (a stuck stage) must not hold the benchmark forever.
      const kill = setTimeout(() => signal('SIGKILL'), 10_000);
      await gone;
      clearTimeout(kill);
    }
    if (!o.keep) await rm(dir, { recursive: true, force: true });
    if (o.cold && env.TMPDIR) await rm(env.TMPDIR, { recursive: true, force: true });
  }
  if (served === undefined)
    throw new Error(
      `npm start in ${dir}${o.keep ? '' : ' (removed; --keep keeps it)'} never answered /predict; its output ends:\n${log.split('\n').slice(-15).join('\n')}`,
    );
  const timeline = startTimeline(log, { launched, served });
  const run: StartRun = {
    ref,
    ...timeline,
    load_before: +load_before.toFixed(2),
    load_after: +loadavg()[0].toFixed(2),
    meets_targets:
      timeline.serving_s !== null &&
      timeline.serving_s <= TARGET_SERVING_S &&
      timeline.pipeline_s !== null &&
      timeline.pipeline_s <= TARGET_PIPELINE_S,
  };
  if (o.keep) process.stderr.write(`bench:start: kept ${dir}\n`);
  return run;
}

await defineCli(
  {
    name: 'bench:start',
    usage: USAGE,
    options: {
      runs: { type: 'string', default: '1' },
      ref: { type: 'string', multiple: true },
      from: { type: 'string', default: '.' },
      timeout: { type: 'string', default: '600' },
      'cold-tsx': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  },
  async ({ values }) => {
    const runs = Number(values.runs);
    const timeoutS = Number(values.timeout);
    if (!Number.isInteger(runs) || runs < 1)
      throw new UsageError(`--runs must be a whole number ≥ 1, got ${values.runs}`);
    if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a number of seconds > 0, got ${values.timeout}`);
    const from = resolve(values.from);
    const refs = (values.ref?.length ? values.ref : ['HEAD']).map((r) =>
      execFileSync('git', ['-C', from, 'rev-parse', '--short', r], { encoding: 'utf8' }).trim(),
    );
    const results: StartRun[] = [];
    for (let i = 0; i < runs; i++)
      for (const ref of refs) {
        process.stderr.write(`bench:start: run ${i + 1}/${runs} of ${ref} (load ${loadavg()[0].toFixed(2)})…\n`);
        const r = await runOnce(from, ref, { timeoutS, cold: values['cold-tsx'], keep: values.keep });
        process.stderr.write(`bench:start: ${ref} serving after ${r.serving_s} s, pipeline ${r.pipeline_s} s\n`);
        results.push(r);
      }
    const report = {
      benchmark: 'start',
      node: process.version,
      cpus: (await import('node:os')).availableParallelism(),
      cold_tsx: values['cold-tsx'],
      targets: { serving_s: TARGET_SERVING_S, pipeline_s: TARGET_PIPELINE_S, on: 'a quiet machine (load < 1)' },
      results,
    };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return 0;
  },
).main();
