/**
 * The backtest of `npm run bench:quality -- --backtest`: row selection (a period, a seeded share),
 * one summary row per cut (ours beside the references), their mean and a readable table.
 */
import { takeRows, type Table } from '../../../core/data/table.ts';

export const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** A stable pseudo-random number in [0, 1) per row index (mulberry32-style mix of the index and a seed). */
export function rowShare(i: number, seed = 42): number {
  let x = (i + 1) * 0x9e3779b9 + seed;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x ^= x >>> 16;
  return (x >>> 0) / 4294967296;
}

/** The rows with time in [from, until) (either bound optional), thinned to `sample` of them by `rowShare`. */
export function restrictRows(
  table: Table,
  timeColumn: string,
  o: { from?: number; until?: number; sample?: number },
): Table {
  const time = table.columns[timeColumn];
  if (time?.type !== 'timestamp') throw new Error(`${timeColumn} is not a timestamp column of the source`);
  const sample = o.sample ?? 1;
  if (o.from === undefined && o.until === undefined && sample >= 1) return table;
  const keep: number[] = [];
  for (let i = 0; i < table.length; i++) {
    const t = time.values[i];
    if (o.from !== undefined && !(t >= o.from)) continue;
    if (o.until !== undefined && !(t < o.until)) continue;
    if (sample < 1 && rowShare(i) >= sample) continue;
    keep.push(i);
  }
  return takeRows(table, keep);
}

export interface BacktestRow {
  cut: string;
  test_until: string;
  rows_train: number;
  rows_test: number;
  ours: string | null;
  ours_train_s: number;
  /** Per model: the test metric(s) and fit seconds. */
  models: Record<string, { metric: number; log_loss?: number; rmse?: number; fit_s: number }>;
  /** ROC-AUC (classification) or MAE (regression) of ours minus the tuned reference's: ≥ 0 (classification) / ≤ 0 (regression) is a pass. */
  ours_minus_tuned: number | null;
  /** Classification: the test log loss of train's prevalence for every row (ours must be below it). */
  log_loss_constant?: number;
  /** Classification: whether our served probabilities' test log loss is below `log_loss_constant` (false: flagged). */
  log_loss_below_constant?: boolean;
}

interface Run {
  lines: Record<string, unknown>[];
  ours: Record<string, number>;
  references: Record<string, unknown>[];
  trainWallS: number;
  selected: string | null;
  /** The evaluate stage's baseline metrics (log loss of train's prevalence for every test row). */
  baseline?: Record<string, number>;
}

export function backtestRow(run: Run, task: string, cut: string, testUntil: string): BacktestRow {
  const head = run.lines[0] as { train: number; validation: number; test: number };
  const key = task === 'classification' ? 'roc_auc' : 'mae';
  const models: BacktestRow['models'] = {
    ours: {
      metric: run.ours[key],
      ...(task === 'classification' ? { log_loss: run.ours.log_loss } : { rmse: run.ours.rmse }),
      fit_s: +run.trainWallS.toFixed(1),
    },
  };
  for (const r of run.references) {
    const name = String(r.model).replace('sklearn ', '');
    models[name] = {
      metric: r[key] as number,
      ...(task === 'classification' ? { log_loss: r.log_loss as number } : { rmse: r.rmse as number }),
      fit_s: r.fit_s as number,
    };
  }
  const tuned = Object.entries(models).find(([n]) => n.endsWith(' tuned'))?.[1];
  const row: BacktestRow = {
    cut,
    test_until: testUntil,
    rows_train: head.train + head.validation,
    rows_test: head.test,
    ours: run.selected,
    ours_train_s: +run.trainWallS.toFixed(1),
    models,
    ours_minus_tuned: tuned ? +(run.ours[key] - tuned.metric).toFixed(4) : null,
  };
  if (task === 'classification' && run.baseline?.log_loss !== undefined) {
    row.log_loss_constant = run.baseline.log_loss;
    row.log_loss_below_constant = run.ours.log_loss < run.baseline.log_loss;
  }
  return row;
}

export function backtestMean(rows: BacktestRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  const names = Object.keys(rows[0]?.models ?? {});
  for (const name of names) {
    const vals = rows.map((r) => r.models[name]?.metric).filter((v): v is number => Number.isFinite(v));
    out[name] = +(vals.reduce((s, v) => s + v, 0) / vals.length).toFixed(4);
  }
  const diffs = rows.map((r) => r.ours_minus_tuned).filter((v): v is number => v !== null);
  if (diffs.length) out.ours_minus_tuned = +(diffs.reduce((s, v) => s + v, 0) / diffs.length).toFixed(4);
  return out;
}

/** The cuts whose test log loss of ours is not below the constant (prevalence) baseline's: calibration failed there. */
export function cutsNotBelowConstant(rows: BacktestRow[]): string[] {
  return rows.filter((r) => r.log_loss_below_constant === false).map((r) => r.cut);
}

/**
 * A Markdown table: one row per cut, one column per model (metric, fit seconds), ours − tuned,
 * and for classification our test log loss beside the constant baseline's (**not below** flags a
 * cut where the served probabilities lose to predicting the training prevalence); then the mean.
 */
export function backtestTable(rows: BacktestRow[], task: string): string {
  const names = Object.keys(rows[0]?.models ?? {});
  const metric = task === 'classification' ? 'ROC-AUC' : 'MAE';
  const withLogLoss = rows.some((r) => r.log_loss_constant !== undefined);
  const head =
    `| cut → test until | train rows | ${names.map((n) => `${n} ${metric} (fit s)`).join(' | ')} | ours − tuned |` +
    (withLogLoss ? ' ours log loss | constant log loss |' : '');
  const rule = `|${' --- |'.repeat(names.length + 3 + (withLogLoss ? 2 : 0))}`;
  const logLossCells = (r: BacktestRow) => {
    if (!withLogLoss) return '';
    const ours = r.models.ours?.log_loss;
    const flag = r.log_loss_below_constant === false ? ' **not below**' : '';
    return ` ${ours === undefined ? '—' : ours.toFixed(4)}${flag} | ${r.log_loss_constant?.toFixed(4) ?? '—'} |`;
  };
  const lines = rows.map(
    (r) =>
      `| ${r.cut} → ${r.test_until} | ${r.rows_train.toLocaleString('en-US')} | ${names
        .map((n) => (r.models[n] ? `${r.models[n].metric.toFixed(4)} (${r.models[n].fit_s})` : '—'))
        .join(' | ')} | ${r.ours_minus_tuned === null ? '—' : signed(r.ours_minus_tuned)} |${logLossCells(r)}`,
  );
  const mean = backtestMean(rows);
  lines.push(
    `| **mean** | | ${names.map((n) => mean[n].toFixed(4)).join(' | ')} | ${mean.ours_minus_tuned === undefined ? '—' : signed(mean.ours_minus_tuned)} |` +
      (withLogLoss ? ' | |' : ''),
  );
  return [head, rule, ...lines].join('\n') + '\n';
}

const signed = (v: number) => (v >= 0 ? `+${v.toFixed(4)}` : v.toFixed(4));
