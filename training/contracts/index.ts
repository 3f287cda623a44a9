/**
 * Every dvc.yaml stage, in pipeline order, and the model artifact DVC's model registry (GTO,
 * `dvc artifacts get`) reads. `npm run pipeline:gen` turns this (and params.yaml's
 * register.model_name) into dvc.yaml.
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

/**
 * dvc.yaml's `artifacts:`: the model bundle under the name params.yaml gives it
 * (`register.model_name`, the one name the registry, the API and batch scoring use too).
 */
export function pipelineArtifacts(modelName: string): Record<string, unknown> {
  return {
    [modelName]: {
      path: MODEL_DIR,
      type: 'model',
      desc: 'The model bundle the pipeline trains (tfjs model, feature spec, reference profile, golden examples); register.model_name in params.yaml names it',
      labels: ['tfjs'],
    },
  };
}
