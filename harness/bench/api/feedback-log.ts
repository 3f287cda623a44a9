/**
 * `npm run bench:feedback-log`: does recording a prediction into a full prediction log cost about
 * what recording into a filling one does? The log's eviction must be O(1): the old one
 * (`map.keys().next()` over V8's deleted-entry holes) was 20–100× slower per record once full.
 * Timed against a reference measured in the same run (the same log while it fills), so the
 * machine's speed cancels out. Prints one JSON document; exits 1 when the full/filling ratio is
 * over `BENCH_FEEDBACK_MAX_RATIO` (default 4). The unit test (api/feedback.test.ts) checks the same
 * property by counting operations, without a clock.
 *
 * Settings: BENCH_FEEDBACK_CAPACITY (default 50,000 predictions), BENCH_FEEDBACK_ROUNDS (default 5:
 * fresh logs, the median of the rounds' medians is reported).
 */
import { PredictionLog } from '../../../api/feedback.ts';
import { defineCli } from '../../../core/platform/cli.ts';

const USAGE = `usage: npm run bench:feedback-log
  time recording into a full prediction log against the same log while it fills (same run); prints JSON
env: BENCH_FEEDBACK_CAPACITY (50000), BENCH_FEEDBACK_ROUNDS (5), BENCH_FEEDBACK_MAX_RATIO (4)
exit: 0 within the ratio, 1 over it or failed, 2 usage error`;

const CAPACITY = Number(process.env.BENCH_FEEDBACK_CAPACITY ?? 50_000);
const ROUNDS = Number(process.env.BENCH_FEEDBACK_ROUNDS ?? 5);
const MAX_RATIO = Number(process.env.BENCH_FEEDBACK_MAX_RATIO ?? 4);
const CHUNK = Math.max(1, Math.floor(CAPACITY / 10));

const median = (v: readonly number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

/** µs per record while the log fills (its first `capacity` records) and once it is full (after 2× capacity). */
function round(): { filling: number; full: number } {
  const log = new PredictionLog(CAPACITY, 3_600_000, () => 0);
  const ids = Array.from({ length: 4 * CAPACITY }, (_, i) => `prediction-${i}`);
  const perRecordUs: number[] = [];
  for (let c = 0; c < ids.length / CHUNK; c++) {
    const t = performance.now();
    for (let i = c * CHUNK; i < Math.min(ids.length, (c + 1) * CHUNK); i++)
      log.record(ids[i], { version: 1, value: 0.5 });
    perRecordUs.push(((performance.now() - t) * 1000) / CHUNK);
  }
  if (log.size !== CAPACITY) throw new Error(`the log holds ${log.size} predictions, expected ${CAPACITY}`);
  const chunksPerCapacity = Math.ceil(CAPACITY / CHUNK);
  return {
    filling: median(perRecordUs.slice(0, chunksPerCapacity)),
    full: median(perRecordUs.slice(2 * chunksPerCapacity)),
  };
}

await defineCli({ name: 'bench:feedback-log', usage: USAGE }, () => {
  const rounds = Array.from({ length: ROUNDS }, round);
  const filling = median(rounds.map((r) => r.filling));
  const full = median(rounds.map((r) => r.full));
  const ratio = full / filling;
  const pass = ratio <= MAX_RATIO;
  console.log(
    JSON.stringify(
      {
        benchmark: 'feedback-log',
        settings: { capacity: CAPACITY, rounds: ROUNDS, chunk: CHUNK },
        filling_us_per_record: Number(filling.toFixed(3)),
        full_us_per_record: Number(full.toFixed(3)),
        ratio_full_vs_filling: Number(ratio.toFixed(2)),
        targets: { ratio_full_vs_filling: `<= ${MAX_RATIO}` },
        pass,
      },
      null,
      2,
    ),
  );
  return pass ? 0 : 1;
}).main();
