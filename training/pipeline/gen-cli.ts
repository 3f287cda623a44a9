/**
 * `npm run pipeline:gen [-- --check]`: write dvc.yaml from the stage contracts
 * (training/contracts/), or with --check only say whether dvc.yaml is what they generate.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/platform/atomic.ts';
import { PIPELINE_FILE } from '../../core/dvc/index.ts';
import { PIPELINE_ARTIFACTS, PIPELINE_STAGES } from '../contracts/index.ts';
import { resolveIo, runCliWith, type CliIo } from '../cli-io.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { defineCli, type CliStreams } from '../../core/platform/cli.ts';
import { generatePipeline } from './generate.ts';

const USAGE = `usage: npm run pipeline:gen -- [--check]
  --check  do not write; exit 1 when dvc.yaml differs from what the contracts generate`;

const cli = defineCli(
  { name: 'pipeline:gen', usage: USAGE, options: { check: { type: 'boolean', default: false } } },
  async ({ values }, io: CliIo & CliStreams) => {
    const { cwd, write } = resolveIo(io, 'pipeline:gen');
    const path = join(cwd, PIPELINE_FILE);
    const text = await generatePipeline(cwd, PIPELINE_STAGES, PIPELINE_ARTIFACTS);
    const current = await readFile(path, 'utf8').catch(() => null);
    if (current === text) {
      write(`${PIPELINE_FILE} is up to date with training/contracts/\n`);
      return 0;
    }
    if (values.check)
      throw new Error(
        `${PIPELINE_FILE} differs from what training/contracts/ generate (a stage's imports, params or outputs changed); run \`npm run pipeline:gen\` and commit ${PIPELINE_FILE}`,
      );
    await writeFileAtomic(path, text);
    write(`wrote ${PIPELINE_FILE} (${PIPELINE_STAGES.length} stages)\n`);
    return 0;
  },
);

export function main(argv: string[], io: CliIo = {}): Promise<number> {
  return runCliWith(cli, argv, io);
}

if (isMain(import.meta.url)) await cli.main();
