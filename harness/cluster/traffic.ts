/**
 * The traffic of the cluster run: real May 2001 flights from the bundled data, sent to the load
 * balancer at a fixed rate; each flight's real arrival delay posted as feedback later, at a seeded
 * random moment (so labels arrive late and out of order, to whichever replica the balancer picks).
 * Every answer is kept with the replica that gave it: the run's one-process figures come from them.
 */
import { bundledDatasetPath } from '../../core/data/datasets.ts';
import { openParquet, readParquetTable } from '../../core/data/parquet.ts';
import { recordAt } from '../../core/data/records.ts';
import { parseTimestamp } from '../../core/platform/time.ts';
import { seededRandom } from '../../core/platform/random.ts';
import { REPLICA_HEADER, replicaFromHeader, type Replica } from './config.ts';

export const DATASET = 'vega-datasets:data/flights-3m.parquet';
export const INPUT_FIELDS = ['date', 'distance', 'origin', 'destination'];

export interface Flight {
  record: Record<string, string | number | null>;
  delay: number;
}

/** `n` consecutive flights from the first one at or after `from` (the file is in date order). */
export async function loadFlights(from: string, n: number): Promise<Flight[]> {
  const start = parseTimestamp(from);
  if (Number.isNaN(start)) throw new Error(`--from ${from} is not a date (use YYYY-MM-DD)`);
  const pq = await openParquet(bundledDatasetPath(DATASET));
  const dates = (await readParquetTable(pq, { columns: ['date'] })).columns.date as { values: Float64Array };
  let lo = 0;
  let hi = dates.values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (dates.values[mid] < start) lo = mid + 1;
    else hi = mid;
  }
  const rows = await readParquetTable(pq, { rowStart: lo, rowEnd: Math.min(lo + n, pq.rows) });
  const delay = (rows.columns.delay as { values: Float64Array }).values;
  return Array.from({ length: rows.length }, (_, i) => ({ record: recordAt(rows, i, INPUT_FIELDS), delay: delay[i] }));
}

export interface Call {
  /** Milliseconds since the run's traffic started. */
  startedAt: number;
  endedAt: number;
  status: number | null;
  replica: string | null;
  error?: string;
}

export interface PredictionCall extends Call {
  index: number;
  id?: string;
  version?: number;
  /** Probability (classification) or value (regression). */
  value?: number;
  threshold?: number;
}

export interface FeedbackCall extends Call {
  index: number;
  code?: string;
}

export interface TrafficPlan {
  url: string;
  flights: Flight[];
  rate: number;
  seed: number;
  replicas: Replica[];
  /** Each label is posted this long (uniform between the two, seeded) after its prediction was due. */
  labelDelay: { minMs: number; maxMs: number };
  /** Called once when the given share of predictions has been sent. */
  at: { share: number; action: (elapsedMs: number) => Promise<void> | void }[];
  /**
   * A seeded `share` of the labels is posted again once answered, straight to the replica `to`
   * picks with the seeded `pick` in [0, 1) (another live one than `first`, the replica that
   * answered the label; undefined: none).
   */
  repeat?: { share: number; to: (first: string, pick: number) => Replica | undefined };
  timeoutMs: number;
  say: (m: string) => void;
}

interface Answer extends Call {
  json: Record<string, unknown>;
}

async function call(url: string, body: unknown, timeoutMs: number, replicas: Replica[], t0: number): Promise<Answer> {
  const startedAt = performance.now() - t0;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = { raw: text.slice(0, 200) };
    }
    return {
      startedAt,
      endedAt: performance.now() - t0,
      status: res.status,
      replica: replicaFromHeader(res.headers.get(REPLICA_HEADER), replicas),
      json,
    };
  } catch (err) {
    return {
      startedAt,
      endedAt: performance.now() - t0,
      status: null,
      replica: null,
      json: {},
      error: (err as Error).message,
    };
  }
}

/** Send the predictions at `rate`, each label after its seeded delay; resolves when every call has ended. */
export async function replay(
  plan: TrafficPlan,
): Promise<{ predictions: PredictionCall[]; feedback: FeedbackCall[]; repeats: FeedbackCall[] }> {
  const random = seededRandom(plan.seed);
  // Its own stream: the label delays stay those of a run without repeats.
  const repeatRandom = seededRandom(plan.seed + 1);
  const predictions: PredictionCall[] = [];
  const feedback: FeedbackCall[] = [];
  const repeats: FeedbackCall[] = [];
  const pending: Promise<void>[] = [];
  const actions = [...plan.at].sort((a, b) => a.share - b.share);
  const t0 = performance.now();
  const n = plan.flights.length;
  for (let i = 0; i < n; i++) {
    while (actions.length && i >= actions[0].share * n) await actions.shift()!.action(performance.now() - t0);
    const wait = t0 + (i * 1000) / plan.rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const delayMs = plan.labelDelay.minMs + random() * (plan.labelDelay.maxMs - plan.labelDelay.minMs);
    const labelDue = (i * 1000) / plan.rate + delayMs;
    const flight = plan.flights[i];
    // Drawn here, in order, so the same seed repeats the same labels to the same choices.
    const repeatDrawn = plan.repeat !== undefined && repeatRandom() < plan.repeat.share;
    const repeatPick = repeatRandom();
    pending.push(
      (async () => {
        const p = await call(`${plan.url}/predict`, flight.record, plan.timeoutMs, plan.replicas, t0);
        const prediction = p.json.prediction as
          { probability?: number; value?: number; threshold?: number } | undefined;
        const id = typeof p.json.prediction_id === 'string' ? p.json.prediction_id : undefined;
        predictions.push({
          index: i,
          startedAt: p.startedAt,
          endedAt: p.endedAt,
          status: p.status,
          replica: p.replica,
          ...(p.error ? { error: p.error } : {}),
          ...(p.status !== 200 && !p.error ? { error: JSON.stringify(p.json).slice(0, 200) } : {}),
          id,
          version: typeof p.json.model_version === 'number' ? p.json.model_version : undefined,
          value: prediction?.probability ?? prediction?.value,
          threshold: prediction?.threshold,
        });
        if (p.status !== 200 || !id) return;
        const wait = t0 + labelDue - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const f = await call(
          `${plan.url}/feedback`,
          { prediction_id: id, actual: flight.delay },
          plan.timeoutMs,
          plan.replicas,
          t0,
        );
        feedback.push(feedbackCall(i, f));
        const again = repeatDrawn && f.status === 200 && f.replica ? plan.repeat!.to(f.replica, repeatPick) : undefined;
        if (!again) return;
        const r = await call(
          `http://127.0.0.1:${again.port}/feedback`,
          { prediction_id: id, actual: flight.delay },
          plan.timeoutMs,
          plan.replicas,
          t0,
        );
        repeats.push(feedbackCall(i, { ...r, replica: again.name }));
      })(),
    );
    if ((i + 1) % Math.max(1, Math.round(plan.rate * 5)) === 0) plan.say(`${i + 1}/${n} predictions sent`);
  }
  for (const a of actions) await a.action(performance.now() - t0);
  await Promise.all(pending);
  predictions.sort((a, b) => a.index - b.index);
  feedback.sort((a, b) => a.index - b.index);
  repeats.sort((a, b) => a.index - b.index);
  return { predictions, feedback, repeats };
}

function feedbackCall(index: number, f: Answer): FeedbackCall {
  const err = f.json.error as { code?: string; message?: string } | string | undefined;
  return {
    index,
    startedAt: f.startedAt,
    endedAt: f.endedAt,
    status: f.status,
    replica: f.replica,
    ...(f.error ? { error: f.error } : {}),
    ...(typeof err === 'object' && err?.code ? { code: err.code } : {}),
  };
}
