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
    REGISTER_PROMOTE:
      'allow | never | auto (default): whether this run may assign stages. auto promotes only in the train workflow ' +
      '(GITHUB_ACTIONS with TRAIN_BRANCH); anywhere else the version is registered as a candidate. npm start and the trainer Job say allow.',
    GITHUB_ACTIONS: 'set by GitHub Actions: with TRAIN_BRANCH, marks the train workflow, where promotion is automatic.',
    TRAIN_BRANCH: 'set by the train workflow (.github/workflows/train.yml): the branch it trains.',
    DVC_EXP_NAME: 'set by `dvc exp run`: an experiment never promotes.',
    DVC_EXP_BASELINE_REV: 'set by `dvc exp run` (with DVC_EXP_NAME).',
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
