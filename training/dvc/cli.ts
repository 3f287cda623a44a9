/**
 * Data versioning without DVC installed: `npm run data:push | data:pull | data:status`, plus
 * `add <path>` and `init`. Same files and layout as DVC 3, so `dvc pull` works on what we push.
 *
 *   node --import tsx training/dvc/cli.ts <push|pull|status|add|init> [paths…]
 *        [-r <remote>] [-j <jobs>] [--force] [--no-cloud] [--json]
 */
import { dvcAdd, initDvcRepo, pull, push, status } from '../../core/dvc/index.ts';
import type { OutStatus } from '../../core/dvc/index.ts';
import { parseCli, resolveIo, type CliIo } from '../cli-io.ts';
import { isMain } from '../../core/platform/is-main.ts';

export { dvcAdd } from '../../core/dvc/index.ts';
export type { AddOptions, AddResult } from '../../core/dvc/index.ts';

const USAGE = `usage: training/dvc/cli.ts <command> [paths…] [options]
commands:
  push       upload tracked data (data.dvc, dvc.lock outs) to the remote
  pull       download tracked data and restore it in the workspace (md5-verified)
  status     compare workspace, cache and remote
  add PATH   track a file or directory (writes PATH.dvc, stores it in .dvc/cache)
  init       create .dvc/config, .dvc/.gitignore and .dvcignore if missing
options:
  -r, --remote NAME   remote from .dvc/config (default: core.remote)
  -j, --jobs N        parallel transfers (default 8)
  --force             pull: overwrite local changes that are stored nowhere else
  --no-cloud          status: do not contact the remote
  --json              status: print JSON`;

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

export type { CliIo } from '../cli-io.ts';

export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const { log, cwd, write } = resolveIo(io, 'dvc');
  const parsed = parseCli(
    argv,
    {
      remote: { type: 'string', short: 'r' },
      jobs: { type: 'string', short: 'j' },
      force: { type: 'boolean', default: false },
      'no-cloud': { type: 'boolean', default: false },
    },
    USAGE,
    { log, write },
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [command, ...paths] = positionals;
  if (!command) {
    write(USAGE + '\n');
    return 2;
  }
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) {
    log.error(`--jobs must be a positive whole number, got "${values.jobs}"`);
    return 2;
  }
  const repoRoot = cwd;
  const common = { repoRoot, log, remote: values.remote, jobs, targets: paths.length ? paths : undefined };
  try {
    switch (command) {
      case 'push':
        await push(common);
        return 0;
      case 'pull':
        await pull({ ...common, force: values.force });
        return 0;
      case 'status': {
        const rows = await status({ ...common, cloud: !values['no-cloud'] });
        write((values.json ? JSON.stringify(rows, null, 2) : formatStatus(rows)) + '\n');
        if (!values.json) for (const h of hints(rows)) log.info(h);
        return 0;
      }
      case 'add':
        if (paths.length === 0) throw new Error('add needs a path, e.g. `add data`');
        for (const p of paths) await dvcAdd(p, { repoRoot, log });
        return 0;
      case 'init': {
        const created = await initDvcRepo(repoRoot);
        log.info(created.length ? `created ${created.join(', ')}` : 'already initialized');
        return 0;
      }
      default:
        log.error(`unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    log.error(`${command} failed: ${(err as Error).message}`);
    return 1;
  }
}

if (isMain(import.meta.url)) {
  // Exit explicitly once output is flushed: a GCS client can keep sockets alive for minutes.
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`, () =>
        process.exit(1),
      );
    },
  );
}
