/**
 * Whether the production model of `register.model_name` can be compared with this run's: register
 * scores production on this run's test rows, which only means something (and only works) when
 * both predict the same target, defined the same way, and production's input columns are in the
 * rows. A model of another target or input is not a new version of it: register refuses it, and
 * the up-front check (preflight.ts) says so before any work, both with the same fix — a new
 * `register.model_name`, which starts its own history in the registry.
 */
import type { TargetSpec } from '../core/model/features.ts';
import type { ColumnRule } from '../core/schemas/params.ts';
import type { ColumnType } from '../core/data/table.ts';

/** What a model predicts and from which columns (production's: its bundle; this run's: params or its test rows). */
export interface ModelShape {
  task: 'classification' | 'regression';
  /** `classes: 'auto'` (params, before fitting) matches any fitted class list of the same column. */
  target: Pick<TargetSpec, 'column' | 'positive_above' | 'positive_class'> & { classes?: readonly string[] | 'auto' };
}

/** How a validate.schema type is held in a table. */
export function columnKind(type: ColumnRule['type']): ColumnType {
  return type === 'number' || type === 'integer' ? 'number' : type === 'timestamp' ? 'timestamp' : 'string';
}

function describeTarget(m: ModelShape): string {
  if (m.task === 'regression') return `${m.target.column} (regression)`;
  if (m.target.classes)
    return `the classes of ${m.target.column} (${m.target.classes === 'auto' ? 'multi-class' : m.target.classes.join(', ')})`;
  if (m.target.positive_class !== undefined) return `${m.target.column} = ${m.target.positive_class} (classification)`;
  return `${m.target.column} > ${m.target.positive_above ?? 0} (classification)`;
}

/** How a classification target is labelled, as one comparable string (fitted class lists compare with `auto` by kind only). */
function labelling(t: ModelShape['target']): string {
  if (t.classes) return 'classes';
  if (t.positive_class !== undefined) return `class=${t.positive_class}`;
  return `above=${t.positive_above ?? 0}`;
}

/**
 * Why production cannot be scored on this run's rows: an empty list when it can. `columns` are
 * the columns of this run's rows (name → how they are held).
 */
export function incomparability(
  production: ModelShape & { input_schema: Record<string, Pick<ColumnRule, 'type'>> },
  current: ModelShape & { columns: Record<string, ColumnType> },
): string[] {
  const out: string[] = [];
  const sameTarget =
    production.task === current.task &&
    production.target.column === current.target.column &&
    (production.task === 'regression' || labelling(production.target) === labelling(current.target));
  if (!sameTarget) out.push(`it predicts ${describeTarget(production)}, this run ${describeTarget(current)}`);
  const missing: string[] = [];
  const retyped: string[] = [];
  for (const [col, rule] of Object.entries(production.input_schema)) {
    const have = current.columns[col];
    if (have === undefined) missing.push(col);
    else if (have !== columnKind(rule.type)) retyped.push(`${col} (${rule.type} there, ${have} here)`);
  }
  if (missing.length) out.push(`its input columns ${missing.join(', ')} are not in this run's data`);
  if (retyped.length) out.push(`its input columns ${retyped.join(', ')} have another type`);
  return out;
}

/** The refusal: what differs, why it matters, and the fix (a new model name), with what to run. */
export function incomparableMessage(name: string, version: number, reasons: readonly string[], run: string): string {
  return (
    `the production model ${name} v${version} is another model than this run's: ${reasons.join('; ')}. ` +
    `It cannot be scored on this run's rows, and a model of another target or input is no new version of ${name}. ` +
    `Set a new register.model_name in params.yaml (one per target and data; the registry keeps ${name} and its stages as they are), then run ${run}`
  );
}
