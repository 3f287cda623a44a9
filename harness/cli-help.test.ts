/**
 * Every package.json script that is a command line (`node --import tsx <file> [args]`, optionally
 * after `cd <dir> &&`) follows core/platform/cli.ts: `--help` prints a usage that names the
 * script on stdout and exits 0 without doing anything; an unknown option exits 2 with
 * `<command>: unknown option …` and the `(see --help)` hint on stderr, without a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;

/**
 * Scripts that run a TypeScript file but are not command lines, and why. A service configured by
 * its environment (serve) is still a command line: --help must not start it.
 */
const NOT_CLIS: Record<string, string> = {};

interface Cli {
  script: string;
  cwd: string;
  file: string;
  args: string[];
}

const CLI_SCRIPT = /^(?:cd (\S+) && )?node --import tsx (\S+\.ts)((?: [\w:-]+)*)$/;
const clis: Cli[] = Object.entries(scripts).flatMap(([script, command]) => {
  const m = CLI_SCRIPT.exec(command);
  if (!m || script in NOT_CLIS) return [];
  return [{ script, cwd: join(ROOT, m[1] ?? ''), file: m[2], args: m[3].split(' ').filter(Boolean) }];
});

function run(cli: Cli, extra: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', cli.file, ...cli.args, ...extra],
      { cwd: cli.cwd, env, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err.code as number | null) ?? null) : 0, stdout, stderr }),
    );
  });
}

/** Run `fn` over `items`, two at a time (the machine has two cores). */
async function eachTwoAtATime<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  };
  await Promise.all([worker(), worker()]);
}

test('the command-line scripts are found (and the ones left out say why)', () => {
  const names = clis.map((c) => c.script);
  for (const expected of [
    'pipeline',
    'pipeline:start',
    'pipeline:gen',
    'data:push',
    'registry',
    'ingest',
    'drift',
    'score:batch',
    'replay',
    'deploy',
    'infra:synth',
    'gh:tag',
    'gh:publish-report',
    'ci:rehearse',
    'serve',
  ])
    assert.ok(names.includes(expected), `${expected} is not recognised as a CLI script`);
  for (const script of Object.keys(NOT_CLIS)) assert.ok(script in scripts, `NOT_CLIS names a missing script ${script}`);
});

test('every CLI script: --help prints its usage and exits 0 without doing any work; an unknown option exits 2', async () => {
  const status = () =>
    execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8' });
  const before = status();
  const scratch = await mkdtemp(join(tmpdir(), 'cli-help-'));
  // Where infra:synth (cdktf) would write if it synthesized.
  const outdir = join(scratch, 'cdktf.out');
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir };
  delete env.DEBUG;
  const problems: string[] = [];
  try {
    await eachTwoAtATime(clis, async (cli) => {
      const help = await run(cli, ['--help'], env);
      const where = `npm run ${cli.script} -- --help`;
      if (help.code !== 0) problems.push(`${where}: exit ${help.code}\n${help.stderr}`);
      else if (!/^usage: /.test(help.stdout)) problems.push(`${where}: stdout does not start with "usage: "`);
      else if (!help.stdout.includes(cli.script)) problems.push(`${where}: the usage does not name ${cli.script}`);
      else if (help.stderr !== '') problems.push(`${where}: wrote to stderr (did it start working?)\n${help.stderr}`);

      const bad = await run(cli, ['--no-such-option'], env);
      const badWhere = `npm run ${cli.script} -- --no-such-option`;
      if (bad.code !== 2) problems.push(`${badWhere}: exit ${bad.code}, expected 2\n${bad.stderr}`);
      else if (bad.stdout !== '') problems.push(`${badWhere}: wrote to stdout`);
      else if (!/^[\w:-]+: unknown option '--no-such-option'\n[^\n]*\(see --help\)\n$/.test(bad.stderr))
        problems.push(`${badWhere}: stderr is not "<command>: unknown option …" + hint:\n${bad.stderr}`);
    });
    assert.deepEqual(problems, []);
    assert.equal(existsSync(outdir), false, 'infra:synth synthesized on --help');
    assert.equal(status(), before, 'a --help run changed the working tree');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
