/**
 * Target encoding for every task, one definition for training, evaluation, batch scoring and the
 * API's feedback: regression keeps the number; binary classification labels 1 when a numeric
 * target is above `positive_above` or when the label equals `positive_class` (text, a boolean
 * written as true/false, or an integer code); multi-class maps each label to its index in the
 * class vocabulary fitted on the training split (`classes`, sorted, stored in the feature spec).
 *
 * Labels are compared as text (`labelText`): a CSV holds `true`, YAML's `positive_class: true` is a
 * boolean, and an integer class read as a number is `3`, not `3.0`; all meet as the same string.
 */
import type { Column } from '../data/table.ts';

export interface TargetSpec {
  column: string;
  type: 'classification' | 'regression';
  /** Binary: label 1 when the numeric target is above this. */
  positive_above?: number;
  /** Binary: label 1 when the label (as text) is this. */
  positive_class?: string;
  /** Multi-class: the class vocabulary fitted on train; a label's index in it is its class. */
  classes?: string[];
}

/** A label as the text every comparison uses: booleans and integers print as in a CSV. */
export function labelText(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  return String(v).trim();
}

/** The labels of a column as text (null: missing), without materialising a row array for text columns. */
function labelsOf(c: Column): { at: (row: number) => string | null; length: number } {
  if (c.type === 'string') return { at: (r) => (c.codes[r] < 0 ? null : c.dict[c.codes[r]]), length: c.codes.length };
  return { at: (r) => (Number.isFinite(c.values[r]) ? labelText(c.values[r]) : null), length: c.values.length };
}

/** Add each distinct label of a column with its row count to `into` (unordered; chunk by chunk). */
export function addLabelCounts(into: Map<string, number>, c: Column): Map<string, number> {
  if (c.type === 'string') {
    const byCode = new Float64Array(c.dict.length);
    for (const code of c.codes) if (code >= 0) byCode[code]++;
    byCode.forEach((n, code) => n > 0 && into.set(c.dict[code], (into.get(c.dict[code]) ?? 0) + n));
  } else {
    const { at, length } = labelsOf(c);
    for (let r = 0; r < length; r++) {
      const v = at(r);
      if (v !== null) into.set(v, (into.get(v) ?? 0) + 1);
    }
  }
  return into;
}

/** Label counts most frequent first (ties by label). */
export function sortLabelCounts(counts: Map<string, number>): Map<string, number> {
  return new Map([...counts].sort((a, b) => b[1] - a[1] || compareLabels(a[0], b[0])));
}

/** Each distinct label of a column with its row count, most frequent first (ties by label). */
export function labelCounts(c: Column): Map<string, number> {
  return sortLabelCounts(addLabelCounts(new Map(), c));
}

/** Integer-looking labels in numeric order, the rest alphabetically (a stable class order). */
export function compareLabels(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The class vocabulary of a multi-class target, fitted on the training split. */
export function fitClasses(column: string, c: Column): string[] {
  return classesOf(column, labelCounts(c));
}

function classesOf(column: string, labels: Map<string, number>): string[] {
  const classes = [...labels.keys()].sort(compareLabels);
  if (classes.length < 3)
    throw new Error(
      `task.classes: auto needs at least 3 classes, but target "${column}" has ${classes.length} in the training split (${classes.join(', ') || 'none'}); for two classes use task.positive_class: <one of them>`,
    );
  return classes;
}

/** Number of model outputs: the classes of a multi-class target, else 1. */
export function outputCount(spec: Pick<TargetSpec, 'classes'>): number {
  return spec.classes?.length ?? 1;
}

export const isMulticlass = (spec: Pick<TargetSpec, 'classes'>): boolean => outputCount(spec) > 1;

/** label → class index (multi-class), 0/1 (binary by positive_class), or null when the label is no class of the model. */
export function classIndex(spec: TargetSpec, label: unknown): number | null {
  const text = labelText(label);
  if (spec.classes) {
    const i = spec.classes.indexOf(text);
    return i >= 0 ? i : null;
  }
  if (spec.positive_class !== undefined) return text === spec.positive_class ? 1 : 0;
  return null;
}

/**
 * Target values per task: raw numbers (regression), 0/1 (binary), class indices (multi-class).
 * A multi-class label not in the vocabulary stops with the label and where it was seen.
 */
export function encodeTarget(spec: TargetSpec, c: Column): Float32Array {
  const out = new Float32Array(c.type === 'string' ? c.codes.length : c.values.length);
  if (spec.classes || spec.positive_class !== undefined) {
    const { at } = labelsOf(c);
    const index = spec.classes ? new Map(spec.classes.map((k, i) => [k, i])) : null;
    for (let r = 0; r < out.length; r++) {
      const label = at(r);
      if (label === null)
        throw new Error(
          `target "${spec.column}" is missing at row ${r}; mark it required in validate.schema so such rows are rejected`,
        );
      if (!index) out[r] = label === spec.positive_class ? 1 : 0;
      else {
        const i = index.get(label);
        if (i === undefined)
          throw new Error(
            `target "${spec.column}" has the label ${JSON.stringify(label)} at row ${r}, which the training split never shows (classes: ${spec.classes!.join(', ')}); ingest more data so every class occurs in train, or list the allowed labels in validate.schema.${spec.column}.allowed`,
          );
        out[r] = i;
      }
    }
    return out;
  }
  if (c.type === 'string')
    throw new Error(
      `target "${spec.column}" holds text; set task.positive_class (two classes) or task.classes: auto (three or more) in params.yaml`,
    );
  if (spec.type === 'regression') {
    out.set(c.values);
    return out;
  }
  const threshold = spec.positive_above ?? 0;
  for (let i = 0; i < out.length; i++) out[i] = c.values[i] > threshold ? 1 : 0;
  return out;
}

type TaskParams = {
  type: 'classification' | 'regression';
  target: string;
  positive_above?: number;
  positive_class?: unknown;
  classes?: 'auto';
};

/** Whether fitting the target needs the training labels (a positive class to check, or classes to learn). */
export function targetNeedsLabels(task: TaskParams): boolean {
  return task.type === 'classification' && (task.positive_class !== undefined || task.classes !== undefined);
}

/** The target part of a feature spec, from params (multi-class: the classes seen in `train`). */
export function fitTargetSpec(task: TaskParams, train?: Column): TargetSpec {
  return fitTargetSpecFromLabels(task, train && targetNeedsLabels(task) ? labelCounts(train) : undefined);
}

/** fitTargetSpec from the training split's label counts (`labelCounts`; undefined: no target column). */
export function fitTargetSpecFromLabels(task: TaskParams, labels: Map<string, number> | undefined): TargetSpec {
  const spec: TargetSpec = { column: task.target, type: task.type };
  if (task.type === 'regression') return spec;
  if (task.positive_above !== undefined) spec.positive_above = task.positive_above;
  if (task.positive_class !== undefined) {
    spec.positive_class = labelText(task.positive_class);
    if (labels) {
      const seen = [...labels.keys()];
      if (!seen.includes(spec.positive_class))
        throw new Error(
          `task.positive_class = ${JSON.stringify(task.positive_class)}: target "${task.target}" never holds ${JSON.stringify(spec.positive_class)} in the training split (its labels: ${seen.slice(0, 20).join(', ') || 'none'}); set task.positive_class in params.yaml to one of those`,
        );
    }
  }
  if (task.classes !== undefined) {
    if (!labels) throw new Error(`task.classes: auto: target "${task.target}" has no column in the training split`);
    spec.classes = classesOf(task.target, labels);
  }
  return spec;
}
