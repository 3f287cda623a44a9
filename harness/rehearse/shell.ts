/**
 * How the runner runs a `run:` step: the script goes to a file in RUNNER_TEMP and the shell
 * template gets its path (`bash --noprofile --norc -eo pipefail {0}` for `bash` and the default
 * when bash exists, `sh -e {0}` for `sh`); stdout/stderr stream to the log; the step is killed at
 * its timeout.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const TEMPLATES: Record<string, string[]> = {
  bash: ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '{0}'],
  sh: ['sh', '-e', '{0}'],
  python: ['python3', '{0}'],
};

export function shellCommand(shell: string | undefined, scriptPath: string): string[] {
  const name = shell ?? 'bash';
  const template = TEMPLATES[name] ?? (name.includes('{0}') ? name.split(/\s+/) : null);
  if (!template)
    throw new Error(`shell "${name}" is not one the rehearsal runs (bash, sh, python or a template with {0})`);
  return template.map((a) => (a === '{0}' ? scriptPath : a));
}

export interface ExecResult {
  code: number;
  output: string;
  timedOut: boolean;
}

export async function runScript(o: {
  script: string;
  shell?: string;
  cwd: string;
  env: Record<string, string>;
  runnerTemp: string;
  timeoutMs: number;
  onLine: (line: string) => void;
}): Promise<ExecResult> {
  const path = join(o.runnerTemp, `${randomUUID()}.sh`);
  await writeFile(path, o.script);
  const [cmd, ...args] = shellCommand(o.shell, path);
  return execStreaming(cmd, args, o.cwd, o.env, o.timeoutMs, o.onLine);
}

export function execStreaming(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
  onLine: (line: string) => void,
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let partial = { out: '', err: '' };
    const feed = (which: 'out' | 'err') => (chunk: Buffer) => {
      const text = partial[which] + chunk.toString();
      const lines = text.split('\n');
      partial[which] = lines.pop() ?? '';
      for (const l of lines) {
        output += `${l}\n`;
        onLine(l);
      }
    };
    child.stdout.on('data', feed('out'));
    child.stderr.on('data', feed('err'));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      onLine(`${cmd}: ${err.message}`);
      resolve({ code: 127, output: `${output}${err.message}\n`, timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const w of ['out', 'err'] as const)
        if (partial[w]) {
          output += `${partial[w]}\n`;
          onLine(partial[w]);
        }
      partial = { out: '', err: '' };
      resolve({ code: code ?? (signal ? 128 : 1), output, timedOut });
    });
  });
}
