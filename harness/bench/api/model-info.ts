/**
 * What the load tools learn from `GET /v1/models/flight-delay`: a request record built from the
 * inputs' defaults (the same values the web UI pre-fills), the TensorFlow.js backend and the model
 * version the API reports. Tolerant of shape: the figures are still worth having without them.
 */

import type { Table } from '../../../core/data/table.ts';

export const MODEL_NAME = 'flight-delay';
export const FALLBACK_RECORD: Record<string, unknown> = {
  date: '2001-01-09T14:35:00.000Z',
  distance: 733,
  origin: 'ATL',
  destination: 'ORD',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Each input's default, the fallback record's value where an input has none. */
export function recordFromModelInfo(info: unknown): Record<string, unknown> {
  const inputs = isObject(info) && Array.isArray(info.inputs) ? info.inputs : [];
  const record: Record<string, unknown> = {};
  for (const input of inputs) {
    if (!isObject(input) || typeof input.name !== 'string') continue;
    const value = input.default ?? FALLBACK_RECORD[input.name];
    if (value !== undefined && value !== null) record[input.name] = value;
  }
  return Object.keys(record).length > 0 ? record : { ...FALLBACK_RECORD };
}

/**
 * `n` different records for the model's inputs, drawn with a fixed seed: a timestamp at any minute
 * of its range's first year, a number anywhere in its range (an integer when the default is one),
 * a category from its list (the default record's value where an input gives no range or list). What
 * traffic of many different requests looks like to the model: each row walks its own paths through
 * the trees, where one repeated record walks the same paths every time (which the CPU learns).
 */
export function distinctRecords(info: unknown, n: number, seed = 7): Record<string, unknown>[] {
  const inputs = (isObject(info) && Array.isArray(info.inputs) ? info.inputs : []).filter(isObject);
  const base = recordFromModelInfo(info);
  let state = seed >>> 0;
  const rnd = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => {
    const record: Record<string, unknown> = { ...base };
    for (const input of inputs) {
      const name = input.name;
      if (typeof name !== 'string') continue;
      if (Array.isArray(input.categories) && input.categories.length > 0)
        record[name] = input.categories[Math.floor(rnd() * input.categories.length)];
      else if (input.type === 'timestamp' && typeof input.min === 'string') {
        const from = Date.parse(input.min);
        if (Number.isFinite(from))
          record[name] = new Date(from + Math.floor(rnd() * 365 * 1440) * 60_000).toISOString();
      } else if (input.type === 'number' && typeof input.min === 'number' && typeof input.max === 'number') {
        const v = input.min + rnd() * (input.max - input.min);
        record[name] = Number.isInteger(input.default) ? Math.round(v) : v;
      }
    }
    return record;
  });
}

/**
 * Up to `n` records of real rows: the pipeline's own test split (a prepared table), each row's
 * value of every input the model description names (timestamps as ISO strings), rows missing one
 * left out (the API would refuse them). Rows of real traffic repeat their paths through the trees
 * more than `distinctRecords` do.
 */
export function tableRecords(table: Table, info: unknown, n: number): Record<string, unknown>[] {
  const inputs = (isObject(info) && Array.isArray(info.inputs) ? info.inputs : []).filter(isObject);
  const names = inputs.map((i) => i.name).filter((name): name is string => typeof name === 'string');
  const columns = names.map((name) => ({ name, column: table.columns[name] }));
  if (names.length === 0 || columns.some((c) => !c.column)) return [];
  const out: Record<string, unknown>[] = [];
  for (let r = 0; r < table.length && out.length < n; r++) {
    const record: Record<string, unknown> = {};
    let complete = true;
    for (const { name, column } of columns) {
      if (column.type === 'string') {
        const code = column.codes[r];
        if (code < 0) complete = false;
        else record[name] = column.dict[code];
      } else {
        const v = column.values[r];
        if (!Number.isFinite(v)) complete = false;
        else record[name] = column.type === 'timestamp' ? new Date(v).toISOString() : v;
      }
    }
    if (complete) out.push(record);
  }
  return out;
}

/** First string value under a key named `key`, searched breadth-first (e.g. `backend`, `runtime.backend`). */
export function findField(info: unknown, key: string): string | number | null {
  const queue: unknown[] = [info];
  while (queue.length > 0) {
    const node = queue.shift();
    if (!isObject(node)) continue;
    const v = node[key];
    if (typeof v === 'string' || typeof v === 'number') return v;
    for (const child of Object.values(node)) if (isObject(child)) queue.push(child);
  }
  return null;
}

export interface ModelFacts {
  record: Record<string, unknown>;
  backend: string | null;
  version: string | number | null;
  info: unknown;
}

export async function fetchModelFacts(baseUrl: string, headers: Record<string, string> = {}): Promise<ModelFacts> {
  let info: unknown = null;
  try {
    const res = await fetch(`${baseUrl}/v1/models/${MODEL_NAME}`, { headers, signal: AbortSignal.timeout(5_000) });
    if (res.ok) info = await res.json();
  } catch {
    // fall back to the built-in record below
  }
  const backend = findField(info, 'backend');
  return {
    record: recordFromModelInfo(info),
    backend: backend === null ? null : String(backend),
    version: findField(info, 'version'),
    info,
  };
}

/**
 * One request before the load, so a run against a refusing endpoint fails with the server's own
 * words instead of 50,000 silent non-2xx answers.
 */
export async function checkRequest(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; bytes: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, bytes: Buffer.byteLength(text), text };
}
