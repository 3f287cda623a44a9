/** Every dashboard, by output file name (grafana/dashboards/<name>.json). */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { modelDashboard } from './model.ts';
import { pipelineDashboard } from './pipeline.ts';
import { serviceDashboard } from './service.ts';

export const dashboards = (): Record<string, Dashboard> => ({
  service: serviceDashboard(),
  model: modelDashboard(),
  pipeline: pipelineDashboard(),
});
