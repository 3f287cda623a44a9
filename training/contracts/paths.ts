/**
 * Where each stage's data lives, relative to the repository root: the one place stages, their
 * contracts (hence dvc.yaml) and the tools around them take paths from, so no stage imports
 * another stage for a path.
 */

/** The raw store `npm run ingest` appends to (tracked by data.dvc). */
export const RAW_DIR = 'data';
export const MANIFEST_FILE = 'manifest.json';
export const RAW_MANIFEST = `${RAW_DIR}/${MANIFEST_FILE}`;

export const VALIDATED_DIR = 'artifacts/validated';
export const VALIDATED_FILE = 'data.parquet';
export const REJECTS_FILE = 'rejects.csv';
export const VALIDATE_METRICS = 'metrics/validate.json';

export const PREPARED_DIR = 'artifacts/prepared';
export const FEATURE_SPEC_FILE = 'feature-spec.json';
export const PROFILE_FILE = 'reference-profile.json';
export const PREPARE_METRICS = 'metrics/prepare.json';

export const MODEL_DIR = 'artifacts/model';
export const TRAIN_METRICS = 'metrics/train.json';
export const EXPERIMENTS_FILE = 'metrics/experiments.json';

export const EVALUATE_METRICS = 'metrics/evaluate.json';
export const PLOTS_DIR = 'metrics/plots';
export const DISTRIBUTIONS_FILE = 'metrics/feature-distributions.json';

export const REGISTER_METRICS = 'metrics/register.json';
export const DATA_DRIFT_METRICS = 'metrics/drift.json';

export const REPORT_FILE = 'metrics/report.md';
export const REPORT_ASSET_DIR_NAME = 'report';
export const REPORT_ASSETS = `metrics/${REPORT_ASSET_DIR_NAME}`;
