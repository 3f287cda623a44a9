/**
 * promtool cases for the fleet rules (fleet-rules.ts): the same total traffic seen by one replica
 * and split — unevenly, each replica seeing a skewed share — over three gives the same fleet
 * figures, and those figures are the ones core/ computes in one process (the expected values
 * below come from core/model/live-quality.ts and core/drift/fleet.ts, not from PromQL). Unshifted
 * traffic split over three replicas raises no drift alert; shifted traffic does, in both setups.
 */
import { addPair, countsBelow, emptyCounts, liveFigures, SCORE_BINS } from '../../core/model/live-quality.ts';
import { fleetDriftScore, isPredictionTrack, shares, sharesBelow, binWidthsInStd } from '../../core/drift/fleet.ts';
import type { RuleTestCase, RuleTestFile } from './promtool-cases.ts';

import { counter, EVAL, gauge, labelText, sample, SETUPS } from './promtool-fleet-series.ts';
import { multiclassQualityCase } from './promtool-fleet-multiclass.ts';

// ---- live quality ---------------------------------------------------------------------------------

/** Joined pairs per minute: (label, probability) by replica of the three-replica setup. */
function classificationTraffic(): { label: number; p: number; replica: number }[] {
  const out: { label: number; p: number; replica: number }[] = [];
  for (let i = 0; i < 40; i++) {
    const p = (i * 0.61803) % 1;
    // Replica 0 gets the low scores, 1 the middle, 2 the high ones: each replica's own AUC is not the fleet's.
    out.push({ label: (i * 7) % 5 < 2 + (p > 0.5 ? 1 : 0) ? 1 : 0, p, replica: p < 0.33 ? 0 : p < 0.66 ? 1 : 2 });
  }
  return out;
}

function qualityCase(): RuleTestCase {
  const traffic = classificationTraffic();
  const threshold = 0.4;
  const regression = [12, 30, -4, 55, 8, 17].map((actual, i) => ({ actual, predicted: actual + ((i * 5) % 11) - 5 }));
  const input: RuleTestCase['input_series'] = [];
  const all = emptyCounts('classification');
  for (const t of traffic) addPair(all, t.label, t.p, threshold);
  const reg = emptyCounts('regression');
  for (const r of regression) addPair(reg, r.actual, r.predicted);
  for (const [job, instances] of Object.entries(SETUPS)) {
    instances.forEach((instance, replica) => {
      const mine = emptyCounts('classification');
      for (const t of traffic)
        if (instances.length === 1 || t.replica === replica) addPair(mine, t.label, t.p, threshold);
      if (mine.task !== 'classification') return;
      const base = { job, instance, model: 'flight-delay', version: '3' };
      for (const [label, counts] of [
        ['1', mine.positives],
        ['0', mine.negatives],
      ] as const) {
        const below = countsBelow(counts);
        for (let bin = 0; bin < SCORE_BINS; bin++) {
          input.push(counter('model_feedback_score_bin_total', { ...base, label, bin: String(bin) }, counts[bin]));
          input.push(counter('model_feedback_score_below_total', { ...base, label, bin: String(bin) }, below[bin]));
        }
      }
      for (const [cell, n] of Object.entries(mine.confusion))
        input.push(counter('model_feedback_confusion_total', { ...base, cell }, n));
      input.push(
        counter(
          'model_feedback_pairs_total',
          base,
          Object.values(mine.confusion).reduce((a, b) => a + b),
        ),
      );
      // a regression model beside it: the replicas split its pairs 1:2:3
      const share = instances.length === 1 ? regression : regression.filter((_, i) => i % 3 === replica);
      const sums = emptyCounts('regression');
      for (const r of share) addPair(sums, r.actual, r.predicted);
      if (sums.task !== 'regression') return;
      const rbase = { job, instance, model: 'delay-minutes', version: '1' };
      input.push(counter('model_feedback_pairs_total', rbase, sums.n));
      input.push(counter('model_feedback_absolute_error_total', rbase, sums.absoluteError));
      input.push(counter('model_feedback_squared_error_total', rbase, sums.squaredError));
    });
  }
  const c = liveFigures(all);
  const r = liveFigures(reg);
  if (c.task !== 'classification' || r.task !== 'regression') throw new Error('unexpected task');
  const expect = (suffix: string) => ({
    expr: `round(fleet:model_live_quality${suffix}, 0.0001)`,
    eval_time: EVAL,
    exp_samples: Object.keys(SETUPS).flatMap((job) => [
      sample({ job, model: 'flight-delay', metric: 'accuracy' }, c.accuracy!),
      sample({ job, model: 'flight-delay', metric: 'roc_auc' }, c.roc_auc!),
      sample({ job, model: 'delay-minutes', metric: 'mae' }, r.mae!),
      sample({ job, model: 'delay-minutes', metric: 'rmse' }, r.rmse!),
    ]),
  });
  return {
    name: 'live quality: one replica, and three replicas each holding a skewed third of the labels, give the same fleet accuracy, ROC-AUC, MAE and RMSE as one process computes',
    interval: '1m',
    input_series: input,
    promql_expr_test: [
      expect(':total'),
      expect(''),
      {
        expr: 'fleet:model_feedback_samples:total',
        eval_time: EVAL,
        exp_samples: Object.keys(SETUPS).flatMap((job) => [
          { labels: `fleet:model_feedback_samples:total{job="${job}",model="delay-minutes"}`, value: 100 * r.n },
          { labels: `fleet:model_feedback_samples:total{job="${job}",model="flight-delay"}`, value: 100 * c.n },
        ]),
      },
    ],
  };
}

// ---- drift ----------------------------------------------------------------------------------------

interface Track {
  feature: string;
  kind: 'numeric' | 'categorical';
  reference: number[];
  edges?: number[];
  std?: number;
  /** Served per minute, by replica of the three-replica setup. */
  split: number[][];
}

const TRACKS = (shifted: boolean): Track[] => [
  {
    feature: 'distance',
    kind: 'numeric',
    reference: [10, 40, 30, 20],
    edges: [0, 1, 3, 6, 10],
    std: 2,
    split: shifted
      ? [
          [0, 0, 0, 30],
          [0, 0, 20, 20],
          [0, 10, 0, 20],
        ]
      : [
          [11, 0, 10, 0],
          [0, 39, 0, 0],
          [0, 0, 21, 19],
        ],
  },
  {
    feature: 'origin',
    kind: 'categorical',
    reference: [20, 50, 30, 0],
    split: shifted
      ? [
          [0, 0, 60, 5],
          [0, 10, 15, 0],
          [0, 0, 10, 0],
        ]
      : [
          [21, 0, 0, 0],
          [0, 49, 0, 0],
          [0, 0, 30, 0],
        ],
  },
  {
    feature: 'prediction',
    kind: 'numeric',
    reference: [50, 30, 20],
    edges: [0, 0.2, 0.5, 1],
    std: 0.25,
    split: [
      [48, 0, 0],
      [0, 33, 0],
      [0, 0, 19],
    ],
  },
  {
    // A class probability's track (multi-class), drifting in both cases: an output, never in the inputs' share.
    feature: 'prediction.late',
    kind: 'numeric',
    reference: [50, 30, 20],
    edges: [0, 0.2, 0.5, 1],
    std: 0.25,
    split: [0, 1, 2].map(() => [0, 0, 33]),
  },
];

const total = (split: number[][]) => split[0].map((_, b) => split.reduce((s, r) => s + r[b], 0));

function driftCase(shifted: boolean): RuleTestCase {
  const tracks = TRACKS(shifted);
  const input: RuleTestCase['input_series'] = [];
  for (const [job, instances] of Object.entries(SETUPS))
    instances.forEach((instance, replica) => {
      for (const t of tracks) {
        const base = { job, instance, model: 'flight-delay', version: '3', feature: t.feature, kind: t.kind };
        const served = instances.length === 1 ? total(t.split) : t.split[replica];
        const below = countsBelow(served);
        const ref = shares(t.reference);
        const refBelow = sharesBelow(t.reference);
        const widths = t.edges ? binWidthsInStd(t.edges, t.std!) : [];
        served.forEach((n, b) => {
          const l = { ...base, bin: String(b) };
          input.push(counter('model_drift_served_total', l, n), gauge('model_drift_reference_share', l, ref[b]));
          if (t.kind === 'numeric')
            input.push(
              counter('model_drift_served_below_total', l, below[b]),
              gauge('model_drift_reference_below_share', l, refBelow[b]),
              gauge('model_drift_bin_width_std', l, widths[b]),
            );
        });
      }
    });
  const scored = tracks.map((t) => ({ t, score: fleetDriftScore({ ...t, served: total(t.split) })! }));
  const labels = (job: string, t: Track) => ({
    job,
    model: 'flight-delay',
    version: '3',
    feature: t.feature,
    kind: t.kind,
  });
  const method = (t: Track) => (t.kind === 'numeric' ? 'wasserstein' : 'jensen_shannon');
  const detected = (score: number) => (score >= 0.1 ? 1 : 0);
  const inputsDrifted = scored.filter((s) => !isPredictionTrack(s.t.feature) && detected(s.score)).length / 2;
  return {
    name: shifted
      ? 'shifted traffic: the same fleet drift scores from one replica and from three, drift detected and the alert fires in both'
      : "unshifted traffic split over three replicas, each seeing a skewed share: the fleet scores equal one replica's, no feature drifts, no alert",
    interval: '1m',
    input_series: input,
    promql_expr_test: [':total', ''].flatMap((suffix) => [
      {
        expr: `round(fleet:model_drift_score${suffix}, 0.0001)`,
        eval_time: EVAL,
        exp_samples: Object.keys(SETUPS).flatMap((job) =>
          scored.map(({ t, score }) => sample({ ...labels(job, t), method: method(t) }, score)),
        ),
      },
      {
        expr: `fleet:model_drift_detected${suffix}`,
        eval_time: EVAL,
        exp_samples: Object.keys(SETUPS).flatMap((job) =>
          scored.map(({ t, score }) => ({
            labels: `fleet:model_drift_detected${suffix}{${labelText({ ...labels(job, t), method: method(t) })}}`,
            value: detected(score),
          })),
        ),
      },
      {
        expr: `fleet:model_dataset_drift_share${suffix}`,
        eval_time: EVAL,
        exp_samples: Object.keys(SETUPS).map((job) => ({
          labels: `fleet:model_dataset_drift_share${suffix}{job="${job}",model="flight-delay",version="3"}`,
          value: inputsDrifted,
        })),
      },
    ]),
    alert_rule_test: [
      {
        eval_time: EVAL,
        alertname: 'ModelDatasetDrift',
        exp_alerts: shifted
          ? Object.keys(SETUPS).map((job) => ({
              exp_labels: { job, model: 'flight-delay', version: '3', severity: 'ticket' },
            }))
          : [],
      },
    ],
  };
}

/** A replica SIGKILLed at 50m: its series stop (stale), its counts still belong to the fleet's total. */
function killedReplicaCase(): RuleTestCase {
  const base = (instance: string) => ({ job: 'gitops-ml-api', instance, model: 'flight-delay', version: '3' });
  return {
    name: 'a replica killed at 50m: fleet:model_feedback_samples:total still counts what it joined (the raw sum would drop it)',
    interval: '1m',
    input_series: [
      counter('model_feedback_pairs_total', base('api-0:8080'), 10),
      counter('model_feedback_pairs_total', base('api-1:8080'), 20),
      { series: `model_feedback_pairs_total{${labelText(base('api-2:8080'))}}`, values: '0+30x50 stale' },
    ],
    promql_expr_test: [
      {
        expr: 'fleet:model_feedback_samples:total',
        eval_time: EVAL,
        exp_samples: [
          {
            labels: 'fleet:model_feedback_samples:total{job="gitops-ml-api",model="flight-delay"}',
            value: 10 * 100 + 20 * 100 + 30 * 50,
          },
        ],
      },
      {
        expr: 'sum without (instance) (model_feedback_pairs_total)',
        eval_time: EVAL,
        exp_samples: [{ labels: '{job="gitops-ml-api",model="flight-delay",version="3"}', value: 10 * 100 + 20 * 100 }],
      },
    ],
  };
}

export const FLEET_RULE_TESTS: Record<string, RuleTestFile> = {
  fleet: {
    about:
      'Fleet recording rules: the same traffic on 1 and 3 replicas gives the same live quality and drift figures (the values one process computes with core/), unshifted traffic split over 3 replicas raises no drift alert, and a killed replica still counts in the totals.',
    tests: [qualityCase(), multiclassQualityCase(), driftCase(false), driftCase(true), killedReplicaCase()],
  },
};
