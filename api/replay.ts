/**
 * `npm run replay -- --from 2001-05-01 --rate 200 [--minutes 5] [--url http://127.0.0.1:8080]
 * [--feedback-delay-ms 2000] [--token T]`: replays real later flights from the bundled data to a
 * running API at a fixed rate, then reports the real arrival delay as feedback, so /monitoring
 * shows which features drift (winter model, spring traffic) and how live ROC-AUC moves.
 */
import { bundledDatasetPath } from '../core/data/datasets.ts';
import { openParquet, readParquetTable } from '../core/data/parquet.ts';
import { recordAt } from '../core/data/records.ts';
import { parseTimestamp } from '../core/platform/time.ts';
import { defineCli, numberOption, UsageError } from '../core/platform/cli.ts';

const USAGE = `usage: npm run replay -- [--from 2001-05-01] [--rate 200] [--minutes 5] [--url http://127.0.0.1:8080] [--feedback-delay-ms 2000] [--token T] [--source vega-datasets:…]
  send the bundled flights from --from on to a running API at --rate predictions/s for --minutes,
  report each flight's real delay as feedback after --feedback-delay-ms, then print the API's drift
  and live-quality figures as JSON
  --token T   Bearer token, when the API sets API_TOKENS
  --source    the Parquet file to replay (default: vega-datasets:data/flights-3m.parquet)
exit: 0 done, 1 failed (the API unreachable, …), 2 usage error`;

await defineCli(
  {
    name: 'replay',
    usage: USAGE,
    options: {
      from: { type: 'string', default: '2001-05-01' },
      rate: { type: 'string', default: '200' },
      minutes: { type: 'string', default: '5' },
      url: { type: 'string', default: 'http://127.0.0.1:8080' },
      'feedback-delay-ms': { type: 'string', default: '2000' },
      token: { type: 'string' },
      source: { type: 'string', default: 'vega-datasets:data/flights-3m.parquet' },
    },
  },
  async ({ values }, io) => {
    const from = parseTimestamp(values.from);
    if (Number.isNaN(from)) throw new UsageError(`--from ${values.from} is not a date (use YYYY-MM-DD)`);
    const rate = numberOption(values.rate, 'rate', { positive: true });
    const total = Math.round(rate * 60 * numberOption(values.minutes, 'minutes', { min: 0 }));
    const feedbackDelayMs = numberOption(values['feedback-delay-ms'], 'feedback-delay-ms', { min: 0 });
    const headers = {
      'content-type': 'application/json',
      ...(values.token ? { authorization: `Bearer ${values.token}` } : {}),
    };

    // The API first: a replay against nothing would send every flight into "fetch failed".
    try {
      await fetch(`${values.url}/readyz`, { headers });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(
        `cannot reach the API at ${values.url} (${cause?.code ?? cause?.message ?? (err as Error).message}): is it running? Start it with npm start (or npm run serve), or pass --url`,
        { cause: err },
      );
    }
    const pq = await openParquet(bundledDatasetPath(values.source));
    // The file is in date order: find the first row at or after --from by binary search on the date column.
    const dates = (await readParquetTable(pq, { columns: ['date'] })).columns.date as { values: Float64Array };
    let lo = 0,
      hi = dates.values.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (dates.values[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    const rows = await readParquetTable(pq, { rowStart: lo, rowEnd: Math.min(lo + total, pq.rows) });
    io.stderr(`replaying ${rows.length} flights from ${values.from} at ${rate}/s to ${values.url}\n`);

    let sent = 0,
      ok = 0,
      failed = 0,
      feedbackOk = 0;
    const started = Date.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < rows.length; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const record = recordAt(rows, i, ['date', 'distance', 'origin', 'destination']);
      const delay = (rows.columns.delay as { values: Float64Array }).values[i];
      sent++;
      pending.push(
        (async () => {
          try {
            const res = await fetch(`${values.url}/predict`, { method: 'POST', headers, body: JSON.stringify(record) });
            const body = (await res.json()) as { prediction_id?: string };
            if (!res.ok || !body.prediction_id) return void failed++;
            ok++;
            await new Promise((r) => setTimeout(r, feedbackDelayMs));
            const fb = await fetch(`${values.url}/feedback`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ prediction_id: body.prediction_id, actual: delay }),
            });
            if (fb.ok) feedbackOk++;
          } catch {
            failed++;
          }
        })(),
      );
      if (sent % (rate * 10) === 0)
        io.stderr(`  ${sent}/${rows.length} sent, ${ok} answered, ${feedbackOk} outcomes reported\n`);
    }
    await Promise.all(pending);
    // Monitoring reads need the same token when the server sets API_TOKENS (unless PUBLIC_MONITORING=on).
    const drift = (await (await fetch(`${values.url}/drift`, { headers })).json()) as {
      dataset: { drift_share: number; drifted_features: string[] };
    };
    const live = (await (await fetch(`${values.url}/feedback`, { headers })).json()) as { live: unknown };
    io.stdout(
      JSON.stringify(
        {
          sent,
          ok,
          failed,
          feedback: feedbackOk,
          seconds: (Date.now() - started) / 1000,
          drift: drift.dataset,
          live: live.live,
        },
        null,
        2,
      ) + '\n',
    );
  },
).main();
