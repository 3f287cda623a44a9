/** Contract of stage `register`: the evaluated bundle → the model registry and the promotion decision. */
import { defineStage } from './contract.ts';
import { DATA_DRIFT_METRICS, EVALUATE_METRICS, MODEL_DIR, PREPARED_DIR, REGISTER_METRICS } from './paths.ts';

export const registerStage = defineStage({
  name: 'register',
  entry: 'training/stages/register.ts',
  inputs: [MODEL_DIR, PREPARED_DIR, EVALUATE_METRICS],
  // drift: the data-drift section compares this run's training data with production's.
  paramKeys: ['register', 'drift'],
  env: {
    REGISTRY_URL:
      'where the registry lives (CI points it at the bucket), overriding register.registry. It names where the side effect goes, ' +
      'not what is computed, and DVC cannot track the environment, so it is no DVC param.',
  },
  outputs: [
    { path: REGISTER_METRICS, kind: 'metrics', cache: false },
    { path: DATA_DRIFT_METRICS, kind: 'metrics', cache: false },
  ],
  desc:
    'Side effect by design: records the bundle in the model registry (register.registry, or the REGISTRY_URL environment variable) ' +
    'and moves the production/staging pointers; the decision is the stage output.',
});
