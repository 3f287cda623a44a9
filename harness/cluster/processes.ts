/**
 * Every process and directory the cluster run makes, released whatever happens: children are
 * stopped (SIGTERM, then SIGKILL) at the end of the run, and SIGKILLed synchronously if the
 * harness exits another way (an exception, SIGINT/SIGTERM); the temporary directory is removed
 * last. A child's last output lines are kept so a failure can quote them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from '../testing/lifecycle.ts';

export interface Managed {
  name: string;
  child: ChildProcess;
  /** The last lines it printed (stdout and stderr). */
  output: () => string;
  /** Resolves when it has exited. */
  exited: Promise<void>;
  alive: () => boolean;
}

function tail(maxLines: number) {
  let lines: string[] = [];
  return {
    push: (chunk: Buffer) => {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (lines.length > maxLines) lines = lines.slice(-maxLines);
    },
    text: () => lines.join('\n'),
  };
}

export class ProcessGroup {
  private readonly children: Managed[] = [];
  private dir: string | undefined;
  private readonly onExit = () => this.killAllNow();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`[cluster] ${signal}: stopping every process the run started\n`);
    this.killAllNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  constructor() {
    process.on('exit', this.onExit);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  async tempDir(prefix: string): Promise<string> {
    this.dir = await mkdtemp(join(tmpdir(), prefix));
    return this.dir;
  }

  start(name: string, argv: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Managed {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = tail(60);
    child.stdout?.on('data', out.push);
    child.stderr?.on('data', out.push);
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      child.once('exit', () => resolve());
      child.once('error', (err) => {
        out.push(Buffer.from(`cannot start ${argv[0]}: ${err.message}`));
        resolve();
      });
    });
    const managed: Managed = {
      name,
      child,
      output: out.text,
      exited,
      alive: () => child.pid !== undefined && child.exitCode === null && child.signalCode === null,
    };
    this.children.push(managed);
    return managed;
  }

  /** Stop every child (SIGTERM, SIGKILL after `graceMs`), then remove the temporary directory. */
  async close(graceMs = 5_000): Promise<void> {
    await Promise.all(this.children.map((c) => stopChild(c.child, { graceMs })));
    this.removeDir();
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private killAllNow(): void {
    for (const c of this.children) if (c.alive()) c.child.kill('SIGKILL');
    this.removeDir();
  }

  private removeDir(): void {
    if (!this.dir) return;
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch (err) {
      process.stderr.write(`[cluster] could not remove ${this.dir}: ${(err as Error).message}\n`);
    }
    this.dir = undefined;
  }
}
