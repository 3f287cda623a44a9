/**
 * Where each stage's data lives, relative to the repository root: the one place stages, their
 * contracts (hence dvc.yaml) and the tools around them take paths from, so no stage imports
 * another stage for a path.
 */

/** The metrics files (kept in git): paths and schemas live with their readers in core. */
export {
  DATA_DRIFT_METRICS,
  DISTRIBUTIONS_FILE,
  EVALUATE_METRICS,
  EXPERIMENTS_FILE,
  PLOTS_DIR,
  PREPARE_METRICS,
  REGISTER_METRICS,
  TRAIN_METRICS,
  VALIDATE_METRICS,
} from '../../core/schemas/metrics-files.ts';

/** The raw store `npm run ingest` appends to (tracked by data.dvc). */
export const RAW_DIR = 'data';
export const MANIFEST_FILE = 'manifest.json';
export const RAW_MANIFEST = `${RAW_DIR}/${MANIFEST_FILE}`;

export const VALIDATED_DIR = 'artifacts/validated';
export const VALIDATED_FILE = 'data.parquet';
export const REJECTS_FILE = 'rejects.csv';

export const PREPARED_DIR = 'artifacts/prepared';
export { FEATURE_SPEC_FILE, PROFILE_FILE } from '../../core/schemas/artifact-names.ts';

export const MODEL_DIR = 'artifacts/model';

export const REPORT_FILE = 'metrics/report.md';
export const REPORT_ASSET_DIR_NAME = 'report';
export const REPORT_ASSETS = `metrics/${REPORT_ASSET_DIR_NAME}`;
