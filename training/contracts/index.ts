/**
 * Every dvc.yaml stage, in pipeline order, and the model artifact DVC's model registry (GTO,
 * `dvc artifacts get`) reads. `npm run pipeline:gen` turns this into dvc.yaml.
 */
import type { StageDecl } from './contract.ts';
import { MODEL_DIR } from './paths.ts';
import { validateStage } from './validate.ts';
import { prepareStage } from './prepare.ts';
import { trainStage } from './train.ts';
import { evaluateStage } from './evaluate.ts';
import { registerStage } from './register.ts';
import { reportStage } from './report.ts';

export const PIPELINE_STAGES: readonly StageDecl[] = [
  validateStage,
  prepareStage,
  trainStage,
  evaluateStage,
  registerStage,
  reportStage,
];

export const PIPELINE_ARTIFACTS = {
  'flight-delay': {
    path: MODEL_DIR,
    type: 'model',
    desc: 'Flight arrival delay model (tfjs bundle with feature spec, reference profile and golden examples)',
    labels: ['tfjs', 'flights'],
  },
};
