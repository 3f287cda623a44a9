/** The front door of core/model (see README.md): its public modules. Other packages import these modules directly, so a pipeline stage's import closure (and so its dvc.yaml deps) stays exact. */
export * from './artifact-files.ts';
export * from './bootstrap.ts';
export * from './bundle.ts';
export * from './calibration.ts';
export * from './decision.ts';
export * from './features.ts';
export * from './forward.ts';
export * from './live-quality.ts';
export * from './multiclass-metrics.ts';
export * from './network.ts';
export * from './profile.ts';
export * from './quality-metrics.ts';
export * from './targets.ts';
export * from './tfjs-backend.ts';
export * from './tree-inputs.ts';
export * from './trees.ts';
export * from './tree-value.ts';
