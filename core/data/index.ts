/** The front door of core/data (see README.md): its public modules. Other packages import these modules directly, so a pipeline stage's import closure (and so its dvc.yaml deps) stays exact. */
export * from './csv.ts';
export * from './datasets.ts';
export * from './json.ts';
export * from './materialize.ts';
export * from './parquet.ts';
export * from './records.ts';
export * from './split.ts';
export * from './table.ts';
export * from './validation.ts';
