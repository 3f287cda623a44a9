/**
 * How much of the real API's time per request is the model: the server's own
 * `model_inference_duration_seconds` (one observation per model call, a coalesced batch included)
 * and `model_batch_size` (records per call), read from /metrics before and after the measured
 * rounds. The model call is synchronous on the one thread, so its wall time is CPU time: the API's
 * CPU per request less this is what serving costs around the model, the figure to hold beside the
 * trivial server's.
 */

/** Totals over every label set of the two histograms. */
export interface ModelTotals {
  seconds: number;
  calls: number;
  records: number;
}

const SERIES =
  /^(model_inference_duration_seconds_sum|model_inference_duration_seconds_count|model_batch_size_sum)(?:\{[^}]*\})?\s+(\S+)/;

/** The totals in a Prometheus text exposition (0 where a series is absent). */
export function readModelTotals(text: string): ModelTotals {
  const t: ModelTotals = { seconds: 0, calls: 0, records: 0 };
  for (const line of text.split('\n')) {
    const m = SERIES.exec(line);
    if (!m) continue;
    const v = Number(m[2]);
    if (!Number.isFinite(v)) continue;
    if (m[1] === 'model_inference_duration_seconds_sum') t.seconds += v;
    else if (m[1] === 'model_inference_duration_seconds_count') t.calls += v;
    else t.records += v;
  }
  return t;
}

/** GET /metrics and read the totals; null when the server does not answer them. */
export async function fetchModelTotals(
  baseUrl: string,
  headers: Record<string, string> = {},
): Promise<ModelTotals | null> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { headers, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return null;
    return readModelTotals(await res.text());
  } catch {
    return null;
  }
}

export interface ModelShare {
  /** Model time per answered request, µs (one decimal). */
  us_per_request: number;
  /** Records per model call: requests that arrived together are scored in one call. */
  records_per_call: number;
  calls: number;
}

/** The model's share between two readings over `requests` answered requests; null without data. */
export function modelShare(before: ModelTotals | null, after: ModelTotals | null, requests: number): ModelShare | null {
  if (!before || !after || requests <= 0) return null;
  const calls = after.calls - before.calls;
  const seconds = after.seconds - before.seconds;
  if (calls <= 0 || seconds < 0) return null;
  return {
    us_per_request: Math.round((seconds / requests) * 1e7) / 10,
    records_per_call: Math.round(((after.records - before.records) / calls) * 100) / 100,
    calls,
  };
}
