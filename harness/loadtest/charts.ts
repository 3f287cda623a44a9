/**
 * Vega-Lite specs of the load-test charts, rendered to PNG by core/charts:
 * throughput and latency second by second over the whole test, and p99/rps per ramp level.
 */
import type { SecondSample } from '../bench/api/stats.ts';

export interface TimelinePoint extends SecondSample {
  /** Seconds since the load test began. */
  at_s: number;
  /** Which run the second belongs to, e.g. "scenario" or "ramp 64". */
  run: string;
  phase: 'scenario' | 'ramp';
}

export function timelineSpec(points: readonly TimelinePoint[], sloP99Ms: number) {
  const latency = points
    .flatMap((p) => [
      { at_s: p.at_s, run: p.run, phase: p.phase, percentile: 'p99', ms: p.p99_ms },
      { at_s: p.at_s, run: p.run, phase: p.phase, percentile: 'p50', ms: p.p50_ms },
    ])
    .filter((p) => Number.isFinite(p.ms) && p.ms > 0);
  const x = { field: 'at_s', type: 'quantitative', title: 'Time since start of the load test (s)' };
  return {
    title: 'Throughput and latency, second by second',
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    vconcat: [
      {
        width: 640,
        height: 200,
        data: { values: points.map((p) => ({ at_s: p.at_s, run: p.run, phase: p.phase, rps: p.rps })) },
        mark: { type: 'line', point: { size: 12 }, strokeWidth: 2 },
        encoding: {
          x,
          y: { field: 'rps', type: 'quantitative', title: 'Responses per second' },
          color: { field: 'phase', type: 'nominal', title: 'Phase' },
          detail: { field: 'run', type: 'nominal' },
        },
      },
      {
        width: 640,
        height: 200,
        layer: [
          {
            data: { values: latency },
            mark: { type: 'line', point: { size: 12 }, strokeWidth: 2 },
            encoding: {
              x,
              y: { field: 'ms', type: 'quantitative', title: 'Latency (ms, log scale)', scale: { type: 'log' } },
              color: {
                field: 'percentile',
                type: 'nominal',
                title: 'Percentile',
                scale: { domain: ['p50', 'p99'], range: ['#4c78a8', '#e45756'] },
              },
              detail: { field: 'run', type: 'nominal' },
            },
          },
          sloRule(sloP99Ms),
        ],
      },
    ],
  };
}

function sloRule(sloP99Ms: number) {
  return {
    data: { values: [{ slo: sloP99Ms, label: `SLO p99 ${sloP99Ms} ms` }] },
    layer: [
      {
        mark: { type: 'rule', strokeDash: [6, 4], color: '#888' },
        encoding: { y: { field: 'slo', type: 'quantitative' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, dy: -7, color: '#666' },
        encoding: { y: { field: 'slo', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
      },
    ],
  };
}

export interface RampPoint {
  connections: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  held: boolean;
}

export function rampSpec(levels: readonly RampPoint[], sloP99Ms: number) {
  const values = levels
    .filter((l) => Number.isFinite(l.p99_ms) && l.p99_ms > 0)
    .sort((a, b) => a.connections - b.connections)
    .map((l) => ({ ...l, result: l.held ? 'held the SLO' : 'broke the SLO' }));
  const x = {
    field: 'connections',
    type: 'quantitative',
    title: 'Concurrent connections (log scale)',
    scale: { type: 'log', base: 2, nice: false, padding: 16 },
    axis: { values: values.map((v) => v.connections), format: 'd', labelOverlap: false },
  };
  const result = {
    field: 'result',
    type: 'nominal',
    title: 'Level',
    scale: { domain: ['held the SLO', 'broke the SLO'], range: ['#54a24b', '#e45756'] },
  };
  return {
    title: 'Ramp: throughput and p99 latency per concurrency level',
    data: { values },
    vconcat: [
      {
        width: 560,
        height: 200,
        layer: [
          {
            mark: { type: 'line', color: '#4c78a8', strokeWidth: 2 },
            encoding: { x, y: { field: 'rps', type: 'quantitative', title: 'Responses per second' } },
          },
          {
            mark: { type: 'point', filled: true, size: 70 },
            encoding: { x, y: { field: 'rps', type: 'quantitative' }, color: result },
          },
        ],
      },
      {
        width: 560,
        height: 200,
        layer: [
          {
            mark: { type: 'line', color: '#4c78a8', strokeWidth: 2 },
            encoding: {
              x,
              y: {
                field: 'p99_ms',
                type: 'quantitative',
                title: 'p99 latency (ms, log scale)',
                scale: { type: 'log' },
              },
            },
          },
          {
            mark: { type: 'point', filled: true, size: 70 },
            encoding: { x, y: { field: 'p99_ms', type: 'quantitative' }, color: result },
          },
          sloRule(sloP99Ms),
        ],
      },
    ],
  };
}
