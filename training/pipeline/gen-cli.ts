/**
 * `npm run pipeline:gen [-- --check]`: write dvc.yaml from the stage contracts
 * (training/contracts/) and params.yaml's register.model_name (the model artifact's name), and the
 * manifests' MODEL_NAME from the same key; with --check only say whether both are what they generate.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/platform/atomic.ts';
import { PIPELINE_FILE } from '../../core/dvc/index.ts';
import { pipelineArtifacts, PIPELINE_STAGES } from '../contracts/index.ts';
import { readModelName } from '../../core/schemas/params.ts';
import { resolveIo, runCliWith, type CliIo } from '../cli-io.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { defineCli, type CliStreams } from '../../core/platform/cli.ts';
import { generatePipeline } from './generate.ts';
import { syncManifestModelName } from './manifest-model-name.ts';

const USAGE = `usage: npm run pipeline:gen -- [--check]
  write dvc.yaml from training/contracts/ and params.yaml's register.model_name (its artifacts: entry),
  and set MODEL_NAME in infra/k8s/base/common/configmap.yaml (what the API and batch jobs use) to it
  --check  do not write; exit 1 when dvc.yaml or the ConfigMap differs from what they generate
example: npm run pipeline:gen -- --check`;

const cli = defineCli(
  { name: 'pipeline:gen', usage: USAGE, options: { check: { type: 'boolean', default: false } } },
  async ({ values }, io: CliIo & CliStreams) => {
    const { cwd, write } = resolveIo(io, 'pipeline:gen');
    const path = join(cwd, PIPELINE_FILE);
    const modelName = await readModelName(join(cwd, 'params.yaml'));
    if (!modelName)
      throw new Error(
        'params.yaml has no register.model_name; dvc.yaml names the model artifact after it: add it (run from the repository root)',
      );
    const manifest = await syncManifestModelName(cwd, modelName, values.check);
    if (manifest && 'wrote' in manifest) write(manifest.wrote);
    const stale = manifest && 'stale' in manifest ? [manifest.stale] : [];
    const text = await generatePipeline(cwd, PIPELINE_STAGES, pipelineArtifacts(modelName));
    const current = await readFile(path, 'utf8').catch(() => null);
    if (current === text) {
      if (stale.length) throw new Error(stale.join('\n'));
      write(`${PIPELINE_FILE} is up to date with training/contracts/\n`);
      return 0;
    }
    if (values.check)
      throw new Error(
        [
          `${PIPELINE_FILE} differs from what training/contracts/ and params.yaml generate (a stage's imports, params or outputs, or register.model_name, changed); run \`npm run pipeline:gen\` and commit ${PIPELINE_FILE}`,
          ...stale,
        ].join('\n'),
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
