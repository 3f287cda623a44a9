/** The front door of core/schemas (see README.md): its public modules. Other packages import these modules directly, so a pipeline stage's import closure (and so its dvc.yaml deps) stays exact. */
export * from './artifact-names.ts';
export * from './bundle-meta.ts';
export * from './metric-directions.ts';
export * from './metrics-files.ts';
export * from './params.ts';
