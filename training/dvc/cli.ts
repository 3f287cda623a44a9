/**
 * Data versioning without DVC installed: `npm run data:push | data:pull | data:status`, plus
 * `add <path>` and `init`. Same files and layout as DVC 3, so `dvc pull` works on what we push.
 *
 *   node --import tsx training/dvc/cli.ts <push|pull|status|add|init> [paths…]
 *        [-r <remote>] [-j <jobs>] [--force] [--no-cloud] [--json]
 */
import { dvcAdd, initDvcRepo, pull, push, status } from '../../core/dvc/index.ts';
import type { OutStatus } from '../../core/dvc/index.ts';
import { resolveIo, runCliWith, type CliIo } from '../cli-io.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { memoryLogger } from '../../core/platform/log.ts';
import { runPipeline } from '../pipeline/runner.ts';
import { defineCli, numberOption, UsageError, type CliStreams } from '../../core/platform/cli.ts';

export { dvcAdd } from '../../core/dvc/index.ts';
export type { AddOptions, AddResult } from '../../core/dvc/index.ts';

const USAGE = `usage: npm run data:push | data:pull | data:status -- [paths…] [options]
       node --import tsx training/dvc/cli.ts <push|pull|status|add|init> [paths…] [options]
commands:
  push       upload tracked data (data.dvc, dvc.lock outs) to the remote
  pull       download tracked data and restore it in the workspace (md5-verified)
  status     compare workspace, cache and remote; say when the pipeline ran on other inputs
  add PATH   track a file or directory (writes PATH.dvc, stores it in .dvc/cache)
  init       create .dvc/config, .dvc/.gitignore and .dvcignore if missing
options:
  -r, --remote NAME   remote from .dvc/config (default: core.remote)
  -j, --jobs N        parallel transfers (default 8)
  --force             pull: overwrite local changes that are stored nowhere else
  --no-cloud          status: do not contact the remote
  --json              status: print JSON
exit: 0 done, 1 the transfer or check failed, 2 usage error`;

export function formatStatus(rows: OutStatus[]): string {
  if (rows.length === 0) return 'nothing is tracked (no *.dvc files, no cached outs in dvc.lock)';
  const cell = (n: number | null): string => (n === null ? '?' : n === 0 ? 'ok' : `${n} missing`);
  const table = [['path', 'workspace', 'cache', 'remote', 'recorded in']].concat(
    rows.map((r) => [
      r.path,
      r.workspace,
      cell(r.notInCache),
      r.notInRemote === null && r.objects !== null ? '-' : cell(r.notInRemote),
      r.origin,
    ]),
  );
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return table
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function hints(rows: OutStatus[]): string[] {
  const out: string[] = [];
  if (rows.some((r) => r.workspace !== 'ok'))
    out.push(
      'workspace differs from the recorded version: `npm run data:pull` restores it, or record the new version (ingest / rerun the stage).',
    );
  if (rows.some((r) => (r.notInRemote ?? 0) > 0)) out.push('the remote lacks objects: run `npm run data:push`.');
  return out;
}

/**
 * When the recorded data is all in place, whether the pipeline's stages ran on it: after
 * `ingest --grow` (or a data:pull of a newer data.dvc) data.dvc moves while dvc.lock still records
 * the stages' run on the old data, which the outputs alone do not show. One line naming the first
 * stage behind and why, as `dvc status` names changed deps; null when every stage is up to date.
 */
async function pipelineBehind(repoRoot: string, rows: OutStatus[]): Promise<string | null> {
  if (rows.some((r) => r.workspace !== 'ok')) return null;
  let result;
  try {
    result = await runPipeline({ repoRoot, dry: true, log: memoryLogger(), cacheOutputs: false });
  } catch {
    return null; // no dvc.yaml: data versioning without a pipeline
  }
  const behind = result.stages.filter((s) => s.status === 'would-run');
  if (!behind.length) return null;
  const first = behind[0];
  const more = behind.length > 1 ? ` and ${behind.length - 1} stage(s) after it` : '';
  return (
    `the pipeline's results are behind its inputs: stage '${first.name}' (${first.reasons.join('; ')})${more} would rerun; ` +
    '`npm run pipeline` reruns them (`npm run pipeline -- --dry` lists why)'
  );
}

export type { CliIo } from '../cli-io.ts';

const COMMANDS = ['push', 'pull', 'status', 'add', 'init'];

const cli = defineCli(
  {
    name: 'data',
    usage: USAGE,
    options: {
      remote: { type: 'string', short: 'r' },
      jobs: { type: 'string', short: 'j' },
      force: { type: 'boolean', default: false },
      'no-cloud': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    positionals: true,
    // A GCS client can keep sockets alive for minutes after the work is done.
    forceExit: true,
  },
  async ({ values, positionals }, io: CliIo & CliStreams) => {
    const { log, cwd, write } = resolveIo(io, 'dvc');
    const [command, ...paths] = positionals;
    if (!command) throw new UsageError(`no command given (${COMMANDS.join(', ')})`);
    if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${command}"`);
    if (command === 'add' && paths.length === 0) throw new UsageError('add needs a path, e.g. `add data`');
    const jobs = numberOption(values.jobs, 'jobs', { integer: true, min: 1 });
    const repoRoot = cwd;
    const common = { repoRoot, log, remote: values.remote, jobs, targets: paths.length ? paths : undefined };
    try {
      switch (command) {
        case 'push':
          await push(common);
          return;
        case 'pull':
          await pull({ ...common, force: values.force });
          return;
        case 'status': {
          const rows = await status({ ...common, cloud: !values['no-cloud'] });
          write((values.json ? JSON.stringify(rows, null, 2) : formatStatus(rows)) + '\n');
          if (!values.json) {
            for (const h of hints(rows)) log.info(h);
            const behind = await pipelineBehind(repoRoot, rows);
            if (behind) log.info(behind);
          }
          return;
        }
        case 'add':
          for (const p of paths) await dvcAdd(p, { repoRoot, log });
          return;
        default: {
          const created = await initDvcRepo(repoRoot);
          log.info(created.length ? `created ${created.join(', ')}` : 'already initialized');
        }
      }
    } catch (err) {
      throw new Error(`${command} failed: ${(err as Error).message}`, { cause: err });
    }
  },
);

export function main(argv: string[], io: CliIo = {}): Promise<number> {
  return runCliWith(cli, argv, io);
}

if (isMain(import.meta.url)) await cli.main();
