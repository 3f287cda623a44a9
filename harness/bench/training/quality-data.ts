/**
 * Data for `npm run bench:quality`: the whole source, split by time at a fixed date (test = the
 * period from `testFrom` on), with the rows before it split into train and validation the way the
 * pipeline does (the latest `validationFraction` of them validate). The same rows and raw features
 * are written as an .npy matrix for the scikit-learn references.
 */
import { writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { takeRows, type Table } from '../../../core/data/table.ts';
import { timeSplit, TEST, VALIDATION, TRAIN } from '../../../core/data/split.ts';
import { datetimePart, type DatetimePart } from '../../../core/model/features.ts';

export interface QualitySplit {
  /** 0 train, 1 validation, 2 test per source row. */
  assignment: Uint8Array;
  counts: { train: number; validation: number; test: number };
}

export function splitAtDate(times: Float64Array, testFrom: number, validationFraction: number): QualitySplit {
  const before: number[] = [];
  const assignment = new Uint8Array(times.length);
  for (let i = 0; i < times.length; i++) {
    if (times[i] >= testFrom) assignment[i] = TEST;
    else before.push(i);
  }
  const inner = timeSplit(
    Float64Array.from(before, (i) => times[i]),
    validationFraction,
    0,
  );
  before.forEach((row, k) => (assignment[row] = inner[k] === VALIDATION ? VALIDATION : TRAIN));
  const counts = { train: 0, validation: 0, test: 0 };
  for (const a of assignment) counts[(['train', 'validation', 'test'] as const)[a]]++;
  return { assignment, counts };
}

export function rowsOf(split: QualitySplit, which: number): Uint32Array {
  let n = 0;
  for (const a of split.assignment) if (a === which) n++;
  const out = new Uint32Array(n);
  let j = 0;
  split.assignment.forEach((a, i) => a === which && (out[j++] = i));
  return out;
}

export function subsets(table: Table, split: QualitySplit): { train: Table; validation: Table; test: Table } {
  return {
    train: takeRows(table, rowsOf(split, TRAIN)),
    validation: takeRows(table, rowsOf(split, VALIDATION)),
    test: takeRows(table, rowsOf(split, TEST)),
  };
}

/** A float32 C-order .npy file (format 1.0): magic, header dict padded to 64 bytes, data. */
export function npyBytes(data: Float32Array, rows: number, cols: number): Buffer {
  if (data.length !== rows * cols) throw new Error(`npy: ${data.length} values is not ${rows} × ${cols}`);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([
    pre,
    Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  ]);
}

/**
 * Raw features for the references: hour, day of week, month, distance as numbers; airports as
 * codes ranked by training frequency (at most `maxCodes`, the rest share one code: scikit-learn's
 * native categorical support takes at most 255 categories); then the tuned reference's own time
 * encoding, always present whatever `parts` says: the hour with its minutes (14:35 → 14.5833)
 * and the day of week; the target; the split.
 */
export function referenceMatrix(
  table: Table,
  split: QualitySplit,
  opts: {
    time: string;
    distance: string;
    airports: string[];
    target: string;
    positiveAbove?: number;
    maxCodes?: number;
    parts?: DatetimePart[];
  },
) {
  const n = table.length;
  const parts = opts.parts ?? (['hour', 'day_of_week', 'month'] as DatetimePart[]);
  const p = parts.length;
  const tuned = ['tuned.hour_minutes', 'tuned.day_of_week'];
  const columns = [...parts, opts.distance, ...opts.airports, ...tuned, 'target', 'split'];
  const m = new Float32Array(n * columns.length);
  const k = columns.length;
  const time = table.columns[opts.time];
  const dist = table.columns[opts.distance];
  const target = table.columns[opts.target];
  if (time.type === 'string' || dist.type === 'string' || target.type === 'string')
    throw new Error('bench:quality: time, distance and target must be numeric columns');
  const codes = opts.airports.map((name) => {
    const c = table.columns[name];
    if (c.type !== 'string') throw new Error(`bench:quality: ${name} must be a text column`);
    const freq = new Float64Array(c.dict.length);
    for (let i = 0; i < n; i++) if (split.assignment[i] !== TEST && c.codes[i] >= 0) freq[c.codes[i]]++;
    const ranked = Array.from(c.dict.keys()).sort((a, b) => freq[b] - freq[a] || a - b);
    const max = (opts.maxCodes ?? 250) - 1;
    const map = new Int32Array(c.dict.length).fill(max);
    ranked.forEach((code, rank) => rank < max && freq[code] > 0 && (map[code] = rank));
    const seenInFit = freq.filter((f) => f > 0).length;
    return { c, map, other: max, seenInFit };
  });
  for (let i = 0; i < n; i++) {
    const o = i * k;
    const t = time.values[i];
    parts.forEach((part, j) => (m[o + j] = datetimePart(t, part)));
    m[o + p] = dist.values[i];
    codes.forEach(({ c, map, other }, j) => (m[o + p + 1 + j] = c.codes[i] < 0 ? other : map[c.codes[i]]));
    const a = o + p + 1 + codes.length;
    m[a] = Number.isFinite(t) ? datetimePart(t, 'hour') + new Date(t).getUTCMinutes() / 60 : NaN;
    m[a + 1] = Number.isFinite(t) ? datetimePart(t, 'day_of_week') : NaN;
    const y = target.values[i];
    m[o + k - 2] = opts.positiveAbove === undefined ? y : y > opts.positiveAbove ? 1 : 0;
    m[o + k - 1] = split.assignment[i];
  }
  // How many airports the train + validation rows hold, and how many of them share the "other" code.
  const airportCodes = Object.fromEntries(
    codes.map(({ seenInFit, other }, j) => [
      opts.airports[j],
      { seen: seenInFit, pooled: Math.max(0, seenInFit - other) },
    ]),
  );
  return {
    matrix: m,
    rows: n,
    columns,
    numeric: [...parts, opts.distance],
    categorical: opts.airports,
    tunedNumeric: [...tuned, opts.distance],
    airportCodes,
  };
}

export async function writeReferenceData(
  path: string,
  jsonPath: string,
  ref: ReturnType<typeof referenceMatrix>,
  task: string,
): Promise<void> {
  await writeFile(path, npyBytes(ref.matrix, ref.rows, ref.columns.length));
  await writeFile(
    jsonPath,
    JSON.stringify({
      columns: ref.columns,
      numeric: ref.numeric,
      categorical: ref.categorical,
      tuned_numeric: ref.tunedNumeric,
      task,
    }),
  );
}

/**
 * Runs a scikit-learn reference script and resolves with its JSON lines; a failing exit rejects
 * with the script's own `error` line when it printed one, else the end of its stderr.
 */
export function runPythonLines(python: string, script: string, args: string[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines: Record<string, unknown>[] = [];
      for (const l of out.split('\n'))
        if (l.trim())
          try {
            lines.push(JSON.parse(l) as Record<string, unknown>);
          } catch (e) {
            if (code === 0) return reject(e instanceof Error ? e : new Error(String(e)));
          }
      if (code !== 0)
        reject(
          new Error(
            `scikit-learn references failed (exit ${code}): ${(lines.find((l) => l.error)?.error as string) ?? err.trim().split('\n').slice(-3).join(' ')}`,
          ),
        );
      else resolve(lines);
    });
  });
}
