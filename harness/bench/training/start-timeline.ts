/**
 * Where the seconds of one `npm start` went, read from its JSON log lines (LOG_FORMAT=json: every
 * line carries its time) and the bench's own clock: launch, the first line (modules loaded,
 * params.yaml checked), ingest, each pipeline stage, the pipeline's end, the API listening and
 * the first answered /predict.
 */

export interface StartMarks {
  /** ms since the epoch, the bench's clock (the same machine's as the log's). */
  launched: number;
  /** The first /predict answered 200. */
  served?: number;
}

export interface StartTimeline {
  /** Seconds from launch to the first log line: Node, tsx and the CLI's modules, params.yaml checked. */
  boot_s: number | null;
  /** Seconds of ingest (the next batches appended, data.dvc written). */
  ingest_s: number | null;
  /** Seconds per pipeline stage that ran, in order. */
  stages: Record<string, number>;
  /** CPU seconds of the process per stage (its "done in" line): what a stage cost, whatever the load. */
  stage_cpu_s: Record<string, number>;
  /** Seconds from the first stage's start to the pipeline's summary. */
  pipeline_s: number | null;
  /** Seconds from launch to the API's "listening". */
  listening_s: number | null;
  /** Seconds from launch to the first answered /predict. */
  serving_s: number | null;
}

interface Line {
  t: number;
  component: string;
  msg: string;
  cpu_s?: number;
}

export function parseLogLines(text: string): Line[] {
  const out: Line[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    let r: { time?: unknown; component?: unknown; msg?: unknown; cpu_s?: unknown };
    try {
      r = JSON.parse(raw) as typeof r;
    } catch {
      continue;
    }
    const t = typeof r.time === 'string' ? Date.parse(r.time) : NaN;
    if (!Number.isFinite(t) || typeof r.msg !== 'string') continue;
    out.push({
      t,
      component: typeof r.component === 'string' ? r.component : '',
      msg: r.msg,
      ...(typeof r.cpu_s === 'number' ? { cpu_s: r.cpu_s } : {}),
    });
  }
  return out;
}

const STAGE_START = /^running stage '([^']+)'/;
const s = (ms: number) => Math.round(ms) / 1000;

export function startTimeline(log: string, marks: StartMarks): StartTimeline {
  const lines = parseLogLines(log);
  const first = lines[0]?.t;
  const find = (component: RegExp, msg: RegExp) => lines.find((l) => component.test(l.component) && msg.test(l.msg));
  const ingestFrom = find(/^start$/, /^data source:/);
  const ingestTo = find(/^start$/, /^raw store:/);
  const starts = lines.flatMap((l) => {
    const m = /:pipeline$/.test(l.component) ? STAGE_START.exec(l.msg) : null;
    return m ? [{ name: m[1], t: l.t }] : [];
  });
  // The pipeline's end: the first line of `start` itself after the last stage began (its summary).
  const lastStart = starts.at(-1)?.t;
  const end = lastStart === undefined ? undefined : lines.find((l) => l.component === 'start' && l.t >= lastStart)?.t;
  const stages: Record<string, number> = {};
  starts.forEach((st, i) => {
    const until = starts[i + 1]?.t ?? end;
    if (until !== undefined) stages[st.name] = s(until - st.t);
  });
  const stage_cpu_s: Record<string, number> = {};
  for (const st of starts) {
    const done = lines.find((l) => l.component === st.name && l.t >= st.t && /^done in /.test(l.msg));
    if (done?.cpu_s !== undefined) stage_cpu_s[st.name] = done.cpu_s;
  }
  const listening = find(/^api$/, /^listening$/);
  return {
    boot_s: first === undefined ? null : s(first - marks.launched),
    ingest_s: ingestFrom && ingestTo ? s(ingestTo.t - ingestFrom.t) : null,
    stages,
    stage_cpu_s,
    pipeline_s: starts.length && end !== undefined ? s(end - starts[0].t) : null,
    listening_s: listening ? s(listening.t - marks.launched) : null,
    serving_s: marks.served === undefined ? null : s(marks.served - marks.launched),
  };
}
