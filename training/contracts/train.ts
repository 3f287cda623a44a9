/** Contract of stage `train`: prepared splits → the model bundle and the experiment log. */
import { defineStage } from './contract.ts';
import { EXPERIMENTS_FILE, MODEL_DIR, PREPARED_DIR, TRAIN_METRICS } from './paths.ts';

export const trainStage = defineStage({
  name: 'train',
  entry: 'training/stages/train.ts',
  inputs: [PREPARED_DIR],
  // validate.schema: the bundle's input schema; profile.bins: the prediction histogram.
  paramKeys: ['task', 'train', 'register.model_name', 'validate.schema', 'profile.bins'],
  outputs: [
    { path: MODEL_DIR, kind: 'outs' },
    { path: TRAIN_METRICS, kind: 'metrics', cache: false },
    { path: EXPERIMENTS_FILE, kind: 'metrics', cache: false, persist: true },
  ],
});
