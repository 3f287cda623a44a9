/**
 * Pipeline metrics for Prometheus (seed 004: the Pushgateway is for short jobs). When
 * PUSHGATEWAY_URL is set, a pipeline run pushes its stage durations and outcomes, row counts,
 * rejects and headline metric, grouped by job `gitops_ml_pipeline` and the model name.
 */
import type { PipelineResult } from './pipeline/runner.ts';
import type { Logger } from '../core/platform/log.ts';
import { readMetrics, type MetricsFileKind } from '../core/schemas/metrics-files.ts';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** A metrics file through its one schema; missing or malformed is left out (metrics never fail a run). */
const read = <K extends MetricsFileKind>(repoRoot: string, kind: K) =>
  readMetrics(kind, { repo: repoRoot }).catch(() => null);

/** Text exposition format for one run (pure apart from reading metrics/*.json). */
export async function pipelineExposition(repoRoot: string, result: PipelineResult, now = Date.now()): Promise<string> {
  const lines: string[] = [];
  const metric = (name: string, help: string, samples: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, v] of samples) {
      const l = Object.entries(labels)
        .map(([k, x]) => `${k}="${esc(x)}"`)
        .join(',');
      lines.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(v) ? v : 'NaN'}`);
    }
  };
  metric(
    'pipeline_stage_duration_seconds',
    'Wall time of each stage in the last run (0 when skipped)',
    result.stages.map((s) => [{ stage: s.name, status: s.status }, s.durationMs / 1000]),
  );
  metric(
    'pipeline_stage_success',
    '1 when the stage ran or was up to date, 0 when it failed or did not run',
    result.stages.map((s) => [{ stage: s.name }, s.status === 'ran' || s.status === 'skipped' ? 1 : 0]),
  );
  metric('pipeline_last_run_timestamp_seconds', 'When the last pipeline run finished', [[{}, now / 1000]]);
  metric('pipeline_success', '1 when the whole pipeline succeeded', [[{}, result.ok ? 1 : 0]]);
  const validate = await read(repoRoot, 'validate');
  if (validate) {
    metric('pipeline_rows', 'Rows seen by the validate stage, by outcome', [
      [{ outcome: 'valid' }, Number(validate.rows_valid)],
      [{ outcome: 'rejected' }, Number(validate.rows_rejected)],
    ]);
    const byReason = validate.rejects_by_reason ?? {};
    metric(
      'pipeline_rejects',
      'Rejected rows by reason',
      Object.entries(byReason).map(([reason, n]) => [{ reason }, n]),
    );
  }
  const prepare = await read(repoRoot, 'prepare');
  if (prepare)
    metric(
      'pipeline_split_rows',
      'Rows per split',
      ['train', 'validation', 'test'].map((s) => [{ split: s }, Number(prepare[`${s}_rows`])]),
    );
  const ev = await read(repoRoot, 'evaluate');
  const reg = await read(repoRoot, 'register');
  if (ev) {
    const primary = String(ev.primary_metric);
    metric('pipeline_model_test_metric', 'Primary metric of this run on the test split, beside the baseline', [
      [{ metric: primary, series: 'candidate' }, Number((ev.test as Record<string, number>)[primary])],
      [{ metric: primary, series: 'baseline' }, Number((ev.baseline as Record<string, number>)[primary])],
    ]);
  }
  if (reg)
    metric('pipeline_registered_version', 'Version registered by this run, labelled with the decision', [
      [{ decision: String(reg.decision) }, Number(reg.version)],
    ]);
  return lines.join('\n') + '\n';
}

export async function pushPipelineMetrics(
  repoRoot: string,
  result: PipelineResult,
  options: { url?: string; model?: string; log: Logger; fetchImpl?: typeof fetch },
): Promise<boolean> {
  const url = options.url ?? process.env.PUSHGATEWAY_URL;
  if (!url) return false;
  const target = `${url.replace(/\/+$/, '')}/metrics/job/gitops_ml_pipeline/model/${encodeURIComponent(options.model ?? 'model')}`;
  try {
    const res = await (options.fetchImpl ?? fetch)(target, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain; version=0.0.4' },
      body: await pipelineExposition(repoRoot, result),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    options.log.info(`pushed pipeline metrics to ${target}`);
    return true;
  } catch (err) {
    // Metrics must never fail the pipeline they describe.
    options.log.warn(`could not push pipeline metrics to ${target}: ${(err as Error).message}`);
    return false;
  }
}
