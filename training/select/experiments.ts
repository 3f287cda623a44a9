/**
 * The experiment log `metrics/experiments.json` (kept in git): one run per candidate ever
 * trained, plus the flat summaries `dvc metrics show` displays. Its schema: core/schemas/metrics-files.ts.
 */
import { sameModel, tryReadMetrics, valueOf, type MetricsFile } from '../../core/schemas/metrics-files.ts';
import { isBetter, type PrimaryMetric } from '../fit.ts';

/** One candidate's run in metrics/experiments.json. */
export type ExperimentRun = MetricsFile<'experiments'>['runs'][number];
/** A run the train stage has just made: every measurement present. */
export type NewRun = ExperimentRun & {
  epochs: number;
  best_epoch: number;
  duration_s: number;
  backend: string;
  rows_train: number;
  rows_per_s: number;
};

/** Rounded for the JSON files (DVC drops nulls, so a non-finite value becomes null only where the schema allows it). */
export const round = (x: number, d = 6) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

export function roundAll(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [
      k,
      typeof v === 'number' ? round(v) : v && typeof v === 'object' ? roundAll(v as Record<string, unknown>) : v,
    ]),
  );
}

/**
 * The experiment log: every candidate ever trained under `runs` (a list, which `dvc metrics show`
 * does not display), plus flat summaries it does display: `latest` (each candidate of the newest
 * run, keyed by name) and `best` (the best validation value of the primary metric so far, among
 * the runs of the newest run's model and target: the log keeps every model a repository trained).
 */
export function experimentsFile(runs: ExperimentRun[], primary: PrimaryMetric) {
  const latestId = runs.at(-1)?.run_id;
  const summary = (r: ExperimentRun) => ({
    [primary]: (r.val[primary] as number | null) ?? null,
    epochs: r.epochs,
    duration_s: r.duration_s,
    rows_per_s: r.rows_per_s,
    selected: r.selected,
  });
  const latest = Object.fromEntries(runs.filter((r) => r.run_id === latestId).map((r) => [r.candidate, summary(r)]));
  let best: ExperimentRun | undefined;
  const newest = runs.at(-1);
  for (const r of runs) {
    if (newest?.model_name && !sameModel(r, newest)) continue;
    const v = r.val[primary] as number | null | undefined;
    if (typeof v === 'number' && (!best || isBetter(primary, v, best.val[primary] as number))) best = r;
  }
  return {
    primary_metric: primary,
    latest: { run_id: latestId ?? null, candidates: latest },
    best: best ? { candidate: best.candidate, run_id: best.run_id, [primary]: best.val[primary] as number } : null,
    runs,
  };
}

/**
 * The runs logged so far (none before the first). The log is history that train appends to, so a
 * malformed one stops the stage naming the file and field, is never overwritten, and re-running
 * train cannot repair it: the message says to fix it or move it away.
 */
export async function readExperiments(repoRoot: string): Promise<ExperimentRun[]> {
  const read = await tryReadMetrics('experiments', {
    repo: repoRoot,
    fix: `fix it, or move it away to start a new experiment log (train appends to it; re-running train does not rewrite it)`,
  });
  if (!read.ok && read.problem.kind === 'missing') return [];
  return valueOf(read).runs;
}
