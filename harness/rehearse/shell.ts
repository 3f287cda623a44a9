/**
 * How the runner runs a `run:` step (actions/runner src/Runner.Worker/Handlers/ScriptHandler.cs and
 * ScriptHandlerHelpers.cs): the script goes to a file in RUNNER_TEMP and the shell's argument
 * format gets its path. No `shell:` (step or `defaults.run`): bash (sh when there is no bash) with
 * sh's arguments, `bash -e {0}`: NO pipefail, so `cmd | tee log` succeeds when cmd fails.
 * `shell: bash`: `bash --noprofile --norc -e -o pipefail {0}`; `sh`: `sh -e {0}`; `python`:
 * `python {0}`; `pwsh`/`powershell`: `-command ". '{0}'"`; anything else is `command [args]` and
 * its args must contain `{0}`. stdout/stderr stream to the log; the step is killed at its timeout.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trackGroup } from './process-groups.ts';

const BUILT_IN: Record<string, string> = {
  cmd: '/D /E:ON /V:OFF /S /C "CALL "{0}""',
  pwsh: `-command ". '{0}'"`,
  powershell: `-command ". '{0}'"`,
  bash: '--noprofile --norc -e -o pipefail {0}',
  sh: '-e {0}',
  python: '{0}',
};

/** The command line the runner uses for `shell` (undefined = no shell given), as words. */
export function shellCommand(shell: string | undefined, scriptPath: string): string[] {
  let command: string;
  let args: string;
  if (!shell) {
    command = 'bash';
    args = BUILT_IN.sh;
  } else {
    const space = shell.indexOf(' ');
    command = space < 0 ? shell : shell.slice(0, space);
    args = space < 0 ? '' : shell.slice(space + 1).trim();
    if (!args) args = BUILT_IN[command.toLowerCase()] ?? '';
  }
  if (!args.includes('{0}'))
    throw new Error(
      `shell "${shell}": Invalid shell option. Shell must be a valid built-in (bash, sh, cmd, powershell, pwsh) or a format string containing '{0}'`,
    );
  if (['cmd', 'pwsh', 'powershell'].includes(command.toLowerCase()))
    throw new Error(`shell ${command}: not a shell the rehearsal runs on this Linux host`);
  if (command === 'python') command = 'python3';
  return [command, ...args.split(/\s+/).map((a) => a.replace('{0}', scriptPath))];
}

/** Whether a step's shell (undefined = the default) runs pipelines with pipefail. */
export function hasPipefail(shell: string | undefined): boolean {
  if (!shell) return false;
  const [command, ...args] = shell.split(/\s+/);
  if (!args.length) return command === 'bash';
  return /(^|\s)-[a-z]*o\s+pipefail\b|-o\s*pipefail/.test(args.join(' '));
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
    const untrack = trackGroup(child.pid);
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
      untrack();
      onLine(`${cmd}: ${err.message}`);
      resolve({ code: 127, output: `${output}${err.message}\n`, timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      untrack();
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
