/** The front door of core/platform (see README.md): its public modules. Other packages import these modules directly, so a pipeline stage's import closure (and so its dvc.yaml deps) stays exact. */
export * from './atomic.ts';
export * from './cli.ts';
export * from './cpu-quota.ts';
export * from './free-port.ts';
export * from './gcp-credentials.ts';
export * from './gcs.ts';
export * from './is-main.ts';
export * from './log.ts';
export * from './objects.ts';
export * from './parent-go.ts';
export * from './pool.ts';
export * from './progress.ts';
export * from './random.ts';
export * from './storage.ts';
export * from './temp-files.ts';
export * from './time.ts';
