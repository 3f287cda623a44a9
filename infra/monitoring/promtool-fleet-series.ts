/** Input series and expected samples for the fleet rules' promtool cases. */
export const MINUTES = 120;
export const EVAL = '100m';
/** PromQL round(v, 0.0001) as Prometheus computes it. */
export const round4 = (v: number) => Math.floor(v * 10_000 + 0.5) / 10_000;
export const labelText = (l: Record<string, string>) =>
  Object.entries(l)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
export const counter = (name: string, labels: Record<string, string>, perMinute: number) => ({
  series: `${name}{${labelText(labels)}}`,
  values: `0+${perMinute}x${MINUTES}`,
});
export const gauge = (name: string, labels: Record<string, string>, value: number) => ({
  series: `${name}{${labelText(labels)}}`,
  values: `${value}x${MINUTES}`,
});
/** Expected sample of `round(<rule>, 0.0001)`: labels sorted, no metric name. */
export const sample = (labels: Record<string, string>, value: number) => ({
  labels: `{${labelText(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))))}}`,
  value: round4(value),
});

export const SETUPS = { 'one-replica': ['api-0:8080'], 'three-replicas': ['api-0:8080', 'api-1:8080', 'api-2:8080'] };
