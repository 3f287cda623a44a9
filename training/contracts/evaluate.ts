/** Contract of stage `evaluate`: the bundle on the test split → metrics, plots, distributions. */
import { defineStage } from './contract.ts';
import { DISTRIBUTIONS_FILE, EVALUATE_METRICS, MODEL_DIR, PLOTS_DIR, PREPARED_DIR } from './paths.ts';

export const evaluateStage = defineStage({
  name: 'evaluate',
  entry: 'training/stages/evaluate.ts',
  inputs: [MODEL_DIR, PREPARED_DIR],
  // Everything it needs (task, threshold, primary metric) comes from the bundle.
  paramKeys: [],
  outputs: [
    { path: DISTRIBUTIONS_FILE, kind: 'outs', cache: false },
    { path: EVALUATE_METRICS, kind: 'metrics', cache: false },
    {
      path: `${PLOTS_DIR}/roc.json`,
      kind: 'plots',
      cache: false,
      plot: { x: 'fpr', y: 'tpr', title: 'ROC curve (test)' },
    },
    {
      path: `${PLOTS_DIR}/pr.json`,
      kind: 'plots',
      cache: false,
      plot: { x: 'recall', y: 'precision', title: 'Precision-recall (test)' },
    },
    {
      path: `${PLOTS_DIR}/calibration.json`,
      kind: 'plots',
      cache: false,
      plot: { x: 'mean_predicted', y: 'fraction_positive', title: 'Calibration (test, served probabilities)' },
    },
    {
      path: `${PLOTS_DIR}/calibration-uncalibrated.json`,
      kind: 'plots',
      cache: false,
      plot: { x: 'mean_predicted', y: 'fraction_positive', title: 'Calibration (test, before calibration)' },
    },
    {
      path: `${PLOTS_DIR}/residuals.json`,
      kind: 'plots',
      cache: false,
      plot: { x: 'bin', y: 'count', template: 'bar_horizontal', title: 'Residuals (test, regression)' },
    },
    {
      path: `${PLOTS_DIR}/confusion.json`,
      kind: 'plots',
      cache: false,
      plot: { x: 'actual', y: 'predicted', template: 'confusion', title: 'Confusion matrix (test, multi-class)' },
    },
  ],
});
