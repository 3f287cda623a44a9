/** Contract of stage `report`: every metrics file → metrics/report.md and its charts. */
import { defineStage } from './contract.ts';
import {
  DATA_DRIFT_METRICS,
  DISTRIBUTIONS_FILE,
  EVALUATE_METRICS,
  EXPERIMENTS_FILE,
  PLOTS_DIR,
  PREPARE_METRICS,
  RAW_MANIFEST,
  REGISTER_METRICS,
  REPORT_ASSETS,
  REPORT_FILE,
  TRAIN_METRICS,
  VALIDATE_METRICS,
} from './paths.ts';

export const reportStage = defineStage({
  name: 'report',
  entry: 'training/stages/report.ts',
  inputs: [
    EVALUATE_METRICS,
    REGISTER_METRICS,
    DATA_DRIFT_METRICS,
    TRAIN_METRICS,
    DISTRIBUTIONS_FILE,
    EXPERIMENTS_FILE,
    VALIDATE_METRICS,
    PREPARE_METRICS,
    PLOTS_DIR,
    RAW_MANIFEST,
  ],
  paramKeys: [],
  outputs: [
    { path: REPORT_FILE, kind: 'outs', cache: false },
    { path: REPORT_ASSETS, kind: 'outs', cache: false },
  ],
});
