import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { choiceOption, defineCli, numberOption, UsageError } from './cli.ts';

const USAGE = `usage: npm run demo -- <name> [--times N] [--loud]
  --times N  say it N times (default 1)
  --loud     shout`;

function demo() {
  let worked = 0;
  const cli = defineCli(
    {
      name: 'demo',
      usage: USAGE,
      options: { times: { type: 'string', default: '1' }, loud: { type: 'boolean', default: false } },
      positionals: true,
    },
    ({ values, positionals }, io) => {
      if (positionals.length !== 1) throw new UsageError('give exactly one name');
      const times = numberOption(values.times, 'times', { integer: true, min: 1 });
      worked++;
      if (positionals[0] === 'boom') throw new Error('the name exploded');
      if (positionals[0] === 'verdict') return 1;
      const line = `hello ${positionals[0]}`;
      for (let i = 0; i < times; i++) io.stdout((values.loud ? line.toUpperCase() : line) + '\n');
    },
  );
  const run = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await cli.run(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
    return { code, stdout, stderr };
  };
  return { run, worked: () => worked };
}

test('--help and -h print the usage on stdout and exit 0 without doing the work', async () => {
  const { run, worked } = demo();
  for (const argv of [['--help'], ['-h'], ['alice', '--help'], ['--help', '--nope'], ['--times', 'x', '-h']]) {
    const r = await run(...argv);
    assert.equal(r.code, 0, argv.join(' '));
    assert.equal(r.stdout, USAGE + '\n');
    assert.equal(r.stderr, '');
  }
  assert.equal(worked(), 0);
  // After `--`, --help is an argument like any other.
  assert.equal((await run('--', '--help')).stdout, 'hello --help\n');
});

test('usage errors: `<command>: <problem>`, the synopsis with (see --help), exit 2, no work', async () => {
  const { run, worked } = demo();
  const cases: [string[], string][] = [
    [['alice', '--nope'], "demo: unknown option '--nope'"],
    [['alice', '--times'], "demo: option '--times <value>' argument missing"],
    [['alice', '--loud=yes'], "demo: option '--loud' does not take an argument"],
    [[], 'demo: give exactly one name'],
    [['alice', '--times', '0'], 'demo: --times must be a whole number ≥ 1, got "0"'],
    [['alice', '--times', 'two'], 'demo: --times must be a whole number ≥ 1, got "two"'],
  ];
  for (const [argv, message] of cases) {
    const r = await run(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `${message}\nusage: npm run demo -- <name> [--times N] [--loud]  (see --help)\n`);
  }
  assert.equal(worked(), 0);
});

test('a thrown error is `<command>: <message>` and exit 1; a returned verdict is the exit code', async () => {
  const { run } = demo();
  const boom = await run('boom');
  assert.equal(boom.code, 1);
  assert.equal(boom.stderr, 'demo: the name exploded\n');
  assert.doesNotMatch(boom.stderr, /\n\s+at /);
  assert.deepEqual(await run('verdict'), { code: 1, stdout: '', stderr: '' });
  assert.deepEqual(await run('bob', '--times', '2', '--loud'), {
    code: 0,
    stdout: 'HELLO BOB\nHELLO BOB\n',
    stderr: '',
  });
});

test('a command without positionals rejects them as a usage error', async () => {
  const cli = defineCli({ name: 'flat', usage: 'usage: flat [--x]', options: { x: { type: 'boolean' } } }, () => 0);
  let stderr = '';
  const code = await cli.run(['stray'], { stdout: () => {}, stderr: (t) => void (stderr += t) });
  assert.equal(code, 2);
  assert.match(stderr, /^flat: unexpected argument 'stray'/);
  assert.match(stderr, /\nusage: flat \[--x\] {2}\(see --help\)\n$/);
});

test('option helpers: numbers with bounds, choices', () => {
  assert.equal(numberOption(undefined, 'n'), undefined);
  assert.equal(numberOption('2.5', 'n'), 2.5);
  assert.equal(numberOption('7', 'n', { integer: true, min: 0, max: 9 }), 7);
  assert.throws(() => numberOption('', 'n'), UsageError);
  assert.throws(() => numberOption('0', 'rate', { positive: true }), /--rate must be a positive number, got "0"/);
  assert.throws(() => numberOption('10', 'n', { max: 9 }), /--n must be a number ≤ 9, got "10"/);
  assert.equal(choiceOption('b', 'mode', ['a', 'b']), 'b');
  assert.throws(() => choiceOption('c', 'mode', ['a', 'b', 'd']), /--mode must be a, b or d, got "c"/);
});

test('as a process: exit codes 0, 1, 2 by process.exitCode, messages on stderr, no stack trace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cli-test-'));
  try {
    const script = join(dir, 'demo.mts');
    await writeFile(
      script,
      `import { defineCli } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'cli.ts')).href)};
await defineCli({ name: 'demo', usage: 'usage: demo [--fail]', options: { fail: { type: 'boolean' } } }, ({ values }, io) => {
  if (values.fail) throw new Error('it failed');
  io.stdout('worked\\n');
}).main();
`,
    );
    const run = (...args: string[]) => {
      const env = { ...process.env };
      delete env.DEBUG;
      const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', env });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    assert.deepEqual(run(), { code: 0, stdout: 'worked\n', stderr: '' });
    assert.deepEqual(run('--help'), { code: 0, stdout: 'usage: demo [--fail]\n', stderr: '' });
    assert.deepEqual(run('--fail'), { code: 1, stdout: '', stderr: 'demo: it failed\n' });
    assert.deepEqual(run('--bogus'), {
      code: 2,
      stdout: '',
      stderr: "demo: unknown option '--bogus'\nusage: demo [--fail]  (see --help)\n",
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
