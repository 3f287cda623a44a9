/**
 * What the monitoring answers of one replica say about their scope: each replica joins only the
 * labels and serves only the traffic that reach it, so `GET /drift`, `GET /feedback` and the
 * `/monitoring` page show that share; the fleet's figures are the Prometheus recording rules and
 * the Grafana model dashboard built on the summable counters (api/fleet-metrics.ts).
 */
import { FLEET_DRIFT_RULES } from '../core/drift/fleet.ts';
import { FLEET_QUALITY_RULES } from '../core/model/live-quality.ts';

const DASHBOARD = 'Grafana "gitops-ml · Model health" (uid gitops-ml-model)';

export const FLEET_VIEW = {
  replica:
    'this replica only: each replica sees the predictions and labels the load balancer sends it; the fleet view is in Prometheus',
  quality: {
    rules: [FLEET_QUALITY_RULES.quality, `${FLEET_QUALITY_RULES.quality}:total`, FLEET_QUALITY_RULES.samples],
    dashboard: DASHBOARD,
  },
  drift: {
    rules: [
      FLEET_DRIFT_RULES.score,
      FLEET_DRIFT_RULES.detected,
      FLEET_DRIFT_RULES.dataset,
      `${FLEET_DRIFT_RULES.score}:total`,
    ],
    dashboard: DASHBOARD,
  },
} as const;
