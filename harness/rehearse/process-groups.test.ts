import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../testing/lifecycle.ts';

const SHELL = fileURLToPath(new URL('./shell.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Pids of processes whose command line is exactly `sleep <arg>`. */
const sleepers = (arg: string) =>
  spawnSync('pgrep', ['-f', `^sleep ${arg}$`], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  test(`a rehearsal stopped by ${signal} takes the steps it started with it (each runs in its own process group)`, async () => {
    const cwd = await tempDir('process-groups-');
    // A step that starts a grandchild in the background, as `npm test` starts servers.
    const arg = String(4000 + Math.floor(Math.random() * 5000));
    const script = `
      import { execStreaming } from ${JSON.stringify(SHELL)};
      void execStreaming('bash', ['-c', 'sleep ${arg} & sleep ${arg}'], ${JSON.stringify(cwd)}, { PATH: process.env.PATH }, 60_000, () => {});
      console.log('started');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('started') && resolve());
        child.once('exit', (code) => reject(new Error(`exited ${code} before starting the step`)));
      });
      const until = Date.now() + 10_000;
      while (sleepers(arg).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.equal(sleepers(arg).length, 2, 'the step and its background child run');
      const code = await new Promise<number | null>((resolve) => {
        child.once('exit', (c) => resolve(c));
        child.kill(signal);
      });
      assert.equal(code, signal === 'SIGINT' ? 130 : 143);
      const gone = Date.now() + 5_000;
      while (sleepers(arg).length && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(sleepers(arg), [], 'nothing of the step is left running');
    } finally {
      child.kill('SIGKILL');
      for (const pid of sleepers(arg)) process.kill(Number(pid), 'SIGKILL');
    }
  });
