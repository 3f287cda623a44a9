/**
 * `npm run pipeline:gen [-- --check]`: write dvc.yaml from the stage contracts
 * (training/contracts/), or with --check only say whether dvc.yaml is what they generate.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/platform/atomic.ts';
import { PIPELINE_FILE } from '../../core/dvc/index.ts';
import { PIPELINE_ARTIFACTS, PIPELINE_STAGES } from '../contracts/index.ts';
import { parseCli, resolveIo, type CliIo } from '../cli-io.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { generatePipeline } from './generate.ts';

const USAGE = `usage: npm run pipeline:gen -- [--check]
  --check  do not write; exit 1 when dvc.yaml differs from what the contracts generate`;

export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const { log, cwd, write } = resolveIo(io, 'pipeline:gen');
  const parsed = parseCli(argv, { check: { type: 'boolean', default: false } }, USAGE, { log, write });
  if (typeof parsed === 'number') return parsed;
  const path = join(cwd, PIPELINE_FILE);
  const text = await generatePipeline(cwd, PIPELINE_STAGES, PIPELINE_ARTIFACTS);
  const current = await readFile(path, 'utf8').catch(() => null);
  if (current === text) {
    write(`${PIPELINE_FILE} is up to date with training/contracts/\n`);
    return 0;
  }
  if (parsed.values.check) {
    log.error(
      `${PIPELINE_FILE} differs from what training/contracts/ generate (a stage's imports, params or outputs changed); run \`npm run pipeline:gen\` and commit ${PIPELINE_FILE}`,
    );
    return 1;
  }
  await writeFileAtomic(path, text);
  write(`wrote ${PIPELINE_FILE} (${PIPELINE_STAGES.length} stages)\n`);
  return 0;
}

if (isMain(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
