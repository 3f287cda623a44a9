/** Contract of stage `prepare`: validated rows → splits, feature spec, reference profile. */
import { defineStage } from './contract.ts';
import { PREPARED_DIR, PREPARE_METRICS, VALIDATED_DIR } from './paths.ts';

export const prepareStage = defineStage({
  name: 'prepare',
  entry: 'training/stages/prepare.ts',
  inputs: [VALIDATED_DIR],
  // validate.schema: a hash split without split.hash_key hashes every schema column.
  paramKeys: ['data.time_column', 'task', 'features', 'split', 'profile', 'validate.schema'],
  outputs: [
    { path: PREPARED_DIR, kind: 'outs' },
    { path: PREPARE_METRICS, kind: 'metrics', cache: false },
  ],
});
