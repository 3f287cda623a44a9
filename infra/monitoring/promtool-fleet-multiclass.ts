/**
 * promtool case for the multi-class fleet rules: the same labelled traffic on one replica and
 * split unevenly over three gives the accuracy and macro-F1 that core/model/multiclass-metrics.ts
 * computes in one process (the expected values come from there, not from PromQL).
 */
import { macroF1, multiclassAccuracy } from '../../core/model/multiclass-metrics.ts';
import type { RuleTestCase } from './promtool-cases.ts';
import { counter, EVAL, sample, SETUPS } from './promtool-fleet-series.ts';

const CLASSES = ['sun', 'rain', 'fog', 'snow'];

/** Joined pairs per minute (class indices), by replica of the three-replica setup. */
function traffic(): { actual: number; predicted: number; replica: number }[] {
  const out: { actual: number; predicted: number; replica: number }[] = [];
  for (let i = 0; i < 36; i++) {
    const actual = [0, 0, 0, 1, 1, 2][i % 6];
    // Mostly right, sometimes one class off; "snow" is predicted but never true (it still counts in macro-F1).
    const predicted = i % 5 === 0 ? (actual + 1) % 3 : i % 11 === 0 ? 3 : actual;
    // Replica 0 gets most of "sun", replica 2 most of the mistakes: no replica's own figure is the fleet's.
    out.push({ actual, predicted, replica: predicted !== actual ? 2 : actual === 0 ? 0 : i % 2 });
  }
  return out;
}

export function multiclassQualityCase(): RuleTestCase {
  const pairs = traffic();
  const input: RuleTestCase['input_series'] = [];
  for (const [job, instances] of Object.entries(SETUPS)) {
    instances.forEach((instance, replica) => {
      const mine = pairs.filter((p) => instances.length === 1 || p.replica === replica);
      const base = { job, instance, model: 'weather', version: '2' };
      CLASSES.forEach((name, k) => {
        const count = (f: (p: (typeof pairs)[number]) => boolean) => mine.filter(f).length;
        input.push(
          counter(
            'model_feedback_class_total',
            { ...base, class: name, role: 'actual' },
            count((p) => p.actual === k),
          ),
          counter(
            'model_feedback_class_total',
            { ...base, class: name, role: 'predicted' },
            count((p) => p.predicted === k),
          ),
          counter(
            'model_feedback_class_total',
            { ...base, class: name, role: 'hit' },
            count((p) => p.actual === k && p.predicted === k),
          ),
        );
      });
      input.push(counter('model_feedback_pairs_total', base, mine.length));
    });
  }
  const actual = pairs.map((p) => p.actual);
  const predicted = pairs.map((p) => p.predicted);
  const accuracy = multiclassAccuracy(actual, predicted);
  const f1 = macroF1(actual, predicted, CLASSES.length);
  const expect = (suffix: string) => ({
    expr: `round(fleet:model_live_quality${suffix}, 0.0001)`,
    eval_time: EVAL,
    exp_samples: Object.keys(SETUPS).flatMap((job) => [
      sample({ job, model: 'weather', metric: 'accuracy', task: 'multiclass' }, accuracy),
      sample({ job, model: 'weather', metric: 'macro_f1', task: 'multiclass' }, f1),
    ]),
  });
  return {
    name: 'multi-class live quality: one replica, and three replicas holding skewed shares of the labels, give the accuracy and macro-F1 one process computes',
    interval: '1m',
    input_series: input,
    promql_expr_test: [expect(':total'), expect('')],
  };
}
