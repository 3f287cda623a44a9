/**
 * `npm run bench:feedback-log`: the per-replica costs of the feedback join. (1) Does remembering a
 * joined id in a full seen-set cost about what it does in a filling one? Eviction must be O(1):
 * the old prediction log (`map.keys().next()` over V8's deleted-entry holes) was 20–100× slower
 * per record once full. Timed against a reference measured in the same run (the same set while it
 * fills), so the machine's speed cancels out. (2) What signing a prediction id costs each
 * prediction, and verifying it each label (api/prediction-id.ts). Prints one JSON document; exits
 * 1 when the full/filling ratio is over `BENCH_FEEDBACK_MAX_RATIO` (default 4). The unit test
 * (api/feedback.test.ts) checks the O(1) property by counting operations, without a clock.
 *
 * Settings: BENCH_FEEDBACK_CAPACITY (default 50,000 ids), BENCH_FEEDBACK_ROUNDS (default 5:
 * fresh sets, the median of the rounds' medians is reported).
 */
import { randomUUID } from 'node:crypto';
import { SeenIds } from '../../../api/feedback.ts';
import { PredictionIdSigner } from '../../../api/prediction-id.ts';
import { defineCli } from '../../../core/platform/cli.ts';

const USAGE = `usage: npm run bench:feedback-log
  time remembering joined ids in a full seen-set against the same set while it fills (same run),
  and signing / verifying prediction ids; prints JSON
env: BENCH_FEEDBACK_CAPACITY (50000), BENCH_FEEDBACK_ROUNDS (5), BENCH_FEEDBACK_MAX_RATIO (4)
exit: 0 within the ratio, 1 over it or failed, 2 usage error`;

const CAPACITY = Number(process.env.BENCH_FEEDBACK_CAPACITY ?? 50_000);
const ROUNDS = Number(process.env.BENCH_FEEDBACK_ROUNDS ?? 5);
const MAX_RATIO = Number(process.env.BENCH_FEEDBACK_MAX_RATIO ?? 4);
const CHUNK = Math.max(1, Math.floor(CAPACITY / 10));

const median = (v: readonly number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

/** µs per record while the log fills (its first `capacity` records) and once it is full (after 2× capacity). */
function round(): { filling: number; full: number } {
  const seen = new SeenIds(CAPACITY);
  const ids = Array.from({ length: 4 * CAPACITY }, (_, i) => `prediction-${i}`);
  const perRecordUs: number[] = [];
  for (let c = 0; c < ids.length / CHUNK; c++) {
    const t = performance.now();
    for (let i = c * CHUNK; i < Math.min(ids.length, (c + 1) * CHUNK); i++) seen.add(ids[i]);
    perRecordUs.push(((performance.now() - t) * 1000) / CHUNK);
  }
  if (seen.size !== CAPACITY) throw new Error(`the set holds ${seen.size} ids, expected ${CAPACITY}`);
  const chunksPerCapacity = Math.ceil(CAPACITY / CHUNK);
  return {
    filling: median(perRecordUs.slice(0, chunksPerCapacity)),
    full: median(perRecordUs.slice(2 * chunksPerCapacity)),
  };
}

/**
 * µs per signed id and per verification, median of 5 runs of 20,000, beside a random UUID (what an
 * id cost before signing) timed in the same runs, so a loaded machine shows in both.
 */
function signing(): { sign: number; verify: number; uuid: number } {
  const signer = new PredictionIdSigner([{ id: 'k1', secret: Buffer.alloc(32, 7) }]);
  const n = 20_000;
  const sign: number[] = [],
    verify: number[] = [],
    uuid: number[] = [];
  for (let r = 0; r < 5; r++) {
    const out = new Array<string>(n);
    let t = performance.now();
    for (let i = 0; i < n; i++) out[i] = signer.issue(3, 0.25 + i / (4 * n), 0.366, 1_700_000_000_000 + i);
    sign.push(((performance.now() - t) * 1000) / n);
    t = performance.now();
    for (let i = 0; i < n; i++) if (!signer.verify(out[i]).ok) throw new Error(`id ${i} does not verify`);
    verify.push(((performance.now() - t) * 1000) / n);
    t = performance.now();
    for (let i = 0; i < n; i++) out[i] = randomUUID();
    uuid.push(((performance.now() - t) * 1000) / n);
  }
  return { sign: median(sign), verify: median(verify), uuid: median(uuid) };
}

await defineCli({ name: 'bench:feedback-log', usage: USAGE }, () => {
  const rounds = Array.from({ length: ROUNDS }, round);
  const ids = signing();
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
        sign_us_per_prediction_id: Number(ids.sign.toFixed(3)),
        verify_us_per_feedback: Number(ids.verify.toFixed(3)),
        random_uuid_us_same_run: Number(ids.uuid.toFixed(3)),
        targets: { ratio_full_vs_filling: `<= ${MAX_RATIO}` },
        pass,
      },
      null,
      2,
    ),
  );
  return pass ? 0 : 1;
}).main();
