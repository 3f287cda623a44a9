/**
 * What every deploy step is given: the injected runner and where to release. Its own module so
 * that apply.ts (the overlay step) and strategies.ts (which calls it) share it without a cycle.
 */
import type { SettingName } from './render.ts';
import type { DeployRunner } from './runner.ts';

/** Defaults: the names infra/k8s gives the API's Deployment (and Service) and its container. */
export const APP = 'flight-delay-api';
export const CONTAINER = 'api';
export const HTTP_PORT = 8080;

export interface DeployContext {
  runner: DeployRunner;
  namespace: string;
  /** Deployment (and Service) name; tracks are `<app>-blue|green|canary|preprod`. Default APP. */
  app?: string;
  /** The model the API serves (params.yaml's register.model_name; the CLI reads it): the smoke test and canary queries use its routes. */
  model: string;
  /** Container whose image is released. Default CONTAINER. */
  container?: string;
  /** infra/k8s overlay (directory) applied with the release's image before the rollout. */
  overlay?: string;
  /** Values for `${GCP_PROJECT}` / `${GCS_BUCKET}` in the manifests. */
  settings?: Partial<Record<SettingName, string>>;
  /** `kubectl rollout status --timeout` (the Deployments' progressDeadlineSeconds is 10 min). */
  rolloutTimeout?: string;
  /** Smoke-test this URL instead of port-forwarding to the idle track (e.g. a preview Service). */
  baseUrl?: string;
}
