/** Contract of stage `validate`: raw store → schema-checked rows. */
import { defineStage } from './contract.ts';
import { RAW_DIR, VALIDATED_DIR, VALIDATE_METRICS } from './paths.ts';

export const validateStage = defineStage({
  name: 'validate',
  entry: 'training/stages/validate.ts',
  inputs: [RAW_DIR],
  paramKeys: ['validate'],
  outputs: [
    { path: VALIDATED_DIR, kind: 'outs' },
    { path: VALIDATE_METRICS, kind: 'metrics', cache: false },
  ],
});
