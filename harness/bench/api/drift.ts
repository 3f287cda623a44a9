/**
 * `npm run bench:drift`: is the live drift monitor sensitive, quiet and cheap?
 *  1. detection rate: windows of 5,000 real training flights with `distance` shifted by 0.2
 *     reference standard deviations — share flagged as drifted (target ≥ 95 %);
 *  2. false alarms: same-period windows (random 5,000-flight samples of the training split) —
 *     share flagged, for the feature and for the dataset (target ≤ 5 %);
 *  3. API throughput with monitoring on vs off, both servers started and loaded alternately in
 *     the same run (target on ≥ 0.90 × off).
 * Uses the production bundle's reference profile and the monitor's own code (api/drift-*.ts).
 * Prints one JSON document.
 */
import { join } from 'node:path';
import { readParquetTable } from '../../../core/data/parquet.ts';
import { seededRandom } from '../../../core/platform/random.ts';
import { takeRows, type Table } from '../../../core/data/table.ts';
import { readArtifactFile } from '../../../core/model/artifact-files.ts';
import type { NumericProfile } from '../../../core/model/profile.ts';
import { DriftWindows } from '../../../api/drift-window.ts';
import { judge, DEFAULT_DRIFT } from '../../../api/drift-monitor.ts';
import { REAL_API_SCRIPT, REPO_ROOT, startServer } from './server-process.ts';
import { runLoad, mergeLoadResults } from './load.ts';
import { defineCli } from '../../../core/platform/cli.ts';

const WINDOW = 5000;
const TRIALS = Number(process.env.BENCH_DRIFT_TRIALS ?? 100);
const bundleDir = join(REPO_ROOT, 'artifacts', 'model');
const USAGE = `usage: npm run bench:drift
  is the live drift monitor sensitive, quiet and cheap? Detection rate on windows with distance
  shifted by 0.2 standard deviations, false alarms on same-period windows, and API throughput with
  monitoring on vs off; uses artifacts/model and artifacts/prepared (run \`npm start\` first).
  Prints one JSON document
env: BENCH_DRIFT_TRIALS (100)`;

await defineCli({ name: 'bench:drift', usage: USAGE }, async () => {
  const profile = await readArtifactFile(bundleDir, 'bundleProfile', 'train');
  const spec = await readArtifactFile(bundleDir, 'featureSpec', 'train');
  const train = await readParquetTable(join(REPO_ROOT, 'artifacts', 'prepared', 'train.parquet'));
  const std = (profile.features.distance as NumericProfile).std;
  const random = seededRandom(7);

  function sample(t: Table, n: number): Table {
    const idx = Uint32Array.from({ length: n }, () => Math.floor(random() * t.length));
    return takeRows(t, idx);
  }

  function verdicts(t: Table) {
    const w = new DriftWindows(WINDOW, { ...profile, predictions: undefined }, spec);
    w.add(t, new Array(t.length).fill(0));
    const stds = new Map(
      Object.entries(profile.features)
        .filter(([, f]) => f.kind === 'numeric')
        .map(([k, f]) => [k, (f as NumericProfile).std]),
    );
    const results = w.snapshot().map((s) => ({ name: s.name, v: judge(s, stds.get(s.name), DEFAULT_DRIFT) }));
    const drifted = results.filter((r) => r.v.drifted).map((r) => r.name);
    const evaluated = results.filter((r) => r.v.status === 'ok').length;
    return {
      distance: results.find((r) => r.name === 'distance')!.v,
      dataset: evaluated > 0 && drifted.length / evaluated >= DEFAULT_DRIFT.dataset_drift_share,
    };
  }

  let detected = 0,
    falseFeature = 0,
    falseDataset = 0;
  const scores = { shifted: [] as number[], same: [] as number[] };
  for (let i = 0; i < TRIALS; i++) {
    const same = sample(train, WINDOW);
    const a = verdicts(same);
    if (a.distance.drifted) falseFeature++;
    if (a.dataset) falseDataset++;
    scores.same.push(a.distance.score ?? 0);
    const d = same.columns.distance as { type: 'number'; values: Float64Array };
    const shifted: Table = {
      ...same,
      columns: { ...same.columns, distance: { type: 'number', values: d.values.map((v) => v + 0.2 * std) } },
    };
    const b = verdicts(shifted);
    if (b.distance.drifted) detected++;
    scores.shifted.push(b.distance.score ?? 0);
  }
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;

  // Throughput with monitoring on vs off, alternating rounds so machine noise hits both.
  const body = JSON.stringify({ date: '2001-01-09T14:35:00.000Z', distance: 733, origin: 'ATL', destination: 'ORD' });
  const on = await startServer({
    name: 'monitoring-on',
    script: REAL_API_SCRIPT,
    env: { LOG_LEVEL: 'warn', WORKERS: '1', MONITORING: 'on', DRIFT_INTERVAL_MS: '1000' },
  });
  const off = await startServer({
    name: 'monitoring-off',
    script: REAL_API_SCRIPT,
    env: { LOG_LEVEL: 'warn', WORKERS: '1', MONITORING: 'off' },
  });
  const runs: Record<string, Awaited<ReturnType<typeof runLoad>>[]> = { on: [], off: [] };
  try {
    for (const s of [on, off])
      await runLoad({
        url: s.url,
        path: '/predict',
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        connections: 32,
        durationS: 2,
      });
    for (let round = 0; round < 3; round++) {
      for (const [key, s] of [
        ['on', on],
        ['off', off],
      ] as const) {
        process.stderr.write(`throughput round ${round + 1}/3: monitoring ${key}\n`);
        runs[key].push(
          await runLoad({
            url: s.url,
            path: '/predict',
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
            connections: 32,
            durationS: 5,
          }),
        );
      }
    }
  } finally {
    await on.stop();
    await off.stop();
  }
  const onR = mergeLoadResults(runs.on),
    offR = mergeLoadResults(runs.off);
  const ratio = onR.rps / offR.rps;
  const report = {
    benchmark: 'drift',
    window: WINDOW,
    trials: TRIALS,
    method: 'normalised Wasserstein (window > size_cutoff), threshold 0.1',
    detection: {
      shift_std: 0.2,
      rate: detected / TRIALS,
      mean_score: +mean(scores.shifted).toFixed(4),
      target: '>= 0.95',
      pass: detected / TRIALS >= 0.95,
    },
    false_alarms: {
      feature_rate: falseFeature / TRIALS,
      dataset_rate: falseDataset / TRIALS,
      mean_score: +mean(scores.same).toFixed(4),
      target: '<= 0.05',
      pass: falseFeature / TRIALS <= 0.05 && falseDataset / TRIALS <= 0.05,
    },
    throughput: {
      monitoring_on_rps: Math.round(onR.rps),
      monitoring_off_rps: Math.round(offR.rps),
      ratio: +ratio.toFixed(3),
      target: '>= 0.90',
      pass: ratio >= 0.9,
      errors: onR.errors + offR.errors + onR.non2xx + offR.non2xx,
    },
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}).main();
