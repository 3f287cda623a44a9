/**
 * `npm start`: the main job on the configured data: ingest the next batches, then run the dvc.yaml
 * pipeline (validate → prepare → train → evaluate → register → report) and say which model version
 * production now serves; with --serve (`npm start`) then serve it (training/early-api.ts).
 */
import { createLogger, type Logger } from '../core/platform/log.ts';
import { defineCli, UsageError } from '../core/platform/cli.ts';
import { readMetrics } from '../core/schemas/metrics-files.ts';
import { selectBackend } from '../core/model/tfjs-backend.ts';
import { ingest } from './stages/ingest.ts';
import { preflight } from './preflight.ts';
import { formatSummary, runPipeline, type StageResult } from './pipeline/runner.ts';
import { registerStage } from './contracts/register.ts';
import { productStageEntries } from './pipeline/in-process.ts';
import { pushPipelineMetrics } from './pushgateway.ts';
import { portProblem, startApiEarly } from './early-api.ts';
import { registerRerun } from './register-rerun.ts';

/** `registered`: whether the register stage ran this time (skipped: its outputs are an earlier run's). */
async function summarize(repoRoot: string, log: Logger, registered = true): Promise<void> {
  try {
    const reg = await readMetrics('register', { repo: repoRoot });
    const ev = await readMetrics('evaluate', { repo: repoRoot });
    if (!reg || !ev) throw new Error('no register.json or evaluate.json');
    const metric = ev.primary_metric;
    log.info(
      registered
        ? `${reg.model_name} v${reg.version} (${ev.candidate}): ${reg.decision} — ${reg.reason}`
        : `${reg.model_name} v${reg.version} (${ev.candidate}): nothing changed since the run that registered it (${reg.decision} then)`,
    );
    log.info(
      `test ${metric} ${String(ev.test[metric])} vs baseline ${String(ev.baseline[metric])}; report: metrics/report.md; registry: ${reg.registry}`,
    );
  } catch {
    log.info('pipeline finished; see metrics/ for results');
  }
}

const USAGE = `usage: npm run pipeline:start
       node --import tsx training/cli.ts [start] [--serve]
  ingest the next data batches (params.yaml ingest:), then run the dvc.yaml pipeline and say which
  model version production now serves.
  --serve  then serve it (\`npm start\`): the API process starts at once and loads while the
           pipeline runs, and serves (as \`npm run serve\` would) only once it has succeeded.
  The stages run inside this process (same scripts and outputs as dvc.yaml's commands);
  PIPELINE_IN_PROCESS=0 runs each as its own process, as \`dvc repro\` does.
exit: 0 the pipeline finished, 1 a stage or the ingest failed, 2 usage error;
      with --serve: the API's exit code once it stops`;

async function start(serve: boolean): Promise<number> {
  const log = createLogger({ component: 'start' });
  const repoRoot = process.cwd();
  const taken = serve ? await portProblem() : null;
  if (taken !== null) {
    log.error(`not started: ${taken}`);
    return 1;
  }
  const api = serve ? startApiEarly({ repoRoot, log }) : undefined;
  let code: number;
  try {
    code = await ingestAndRun(repoRoot, log, (s) => {
      // Nothing after register changes what the API serves: it loads the model while report runs.
      if (s.name === registerStage.name && (s.status === 'ran' || s.status === 'skipped')) api?.registered();
    });
  } catch (err) {
    await api?.cancel();
    throw err;
  }
  if (!api) return code;
  if (code !== 0) {
    await api.cancel();
    return code;
  }
  return api.serve();
}

async function ingestAndRun(repoRoot: string, log: Logger, onStageEnd: (s: StageResult) => void): Promise<number> {
  // params.yaml against itself and the source's header, before anything is ingested or trained.
  const params = await preflight({ repoRoot, against: 'source', registry: true, command: '`npm start`', log });
  const backend = await selectBackend({ log });
  log.info(`data source: ${params.data.source}`, {
    batch_size: params.ingest.batch_size,
    max_batches: params.ingest.max_batches || 'all',
    backend: backend.backend,
  });
  const got = await ingest({ repoRoot, params, log: log.child('ingest') });
  log.info(
    `raw store: ${got.batches} batch(es), ${got.rows} of ${got.sourceRows} source records, up to ${got.lastTime ?? '-'}`,
    { added: got.added },
  );
  const result = await runPipeline({
    repoRoot,
    log: log.child('pipeline'),
    inProcess: productStageEntries(),
    onStageEnd,
    rerun: await registerRerun(repoRoot, process.env),
  });
  process.stderr.write(formatSummary(result) + '\n');
  await pushPipelineMetrics(repoRoot, result, { model: params.register?.model_name, log });
  if (!result.ok) {
    log.error(
      `pipeline stopped at stage "${result.failed}"; fix the cause above and run \`npm start\` again (finished stages are kept)`,
    );
    return 1;
  }
  await summarize(repoRoot, log, result.stages.find((st) => st.name === registerStage.name)?.status === 'ran');
  return 0;
}

await defineCli(
  { name: 'start', usage: USAGE, positionals: true, options: { serve: { type: 'boolean', default: false } } },
  ({ values, positionals }) => {
    if (positionals.length > 1 || (positionals[0] ?? 'start') !== 'start')
      throw new UsageError(`unknown command '${positionals.join(' ')}' (the only command is start)`);
    return start(values.serve);
  },
).main();
