import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLogLines, startTimeline } from './start-timeline.ts';

const at = (s: number) => new Date(Date.UTC(2026, 11, 5, 10, 0, 0) + s * 1000).toISOString();
const line = (s: number, component: string, msg: string, fields = {}) =>
  JSON.stringify({ time: at(s), level: 'info', component, msg, ...fields });
const launched = Date.parse(at(0));

const LOG = [
  '> gitops-ml@0.1.0 start',
  line(1.5, 'start', 'params.yaml checked against the source: no problems'),
  line(1.6, 'start', 'data source: vega-datasets:data/flights-3m.parquet'),
  '{"not json',
  line(3.1, 'start:ingest', 'ingested 150000 records into 10 batch file(s)'),
  line(3.4, 'start', 'raw store: 10 batch(es), 150000 of 3000000 source records'),
  line(3.5, 'start:pipeline', "running stage 'validate': out 'artifacts/validated' is missing"),
  line(4.0, 'validate', 'done in 0.5 s', { cpu_s: 0.42 }),
  line(4.1, 'start:pipeline', "running stage 'train': out 'artifacts/model' is missing"),
  line(5.0, 'api', 'tfjs backend: wasm'),
  line(15.1, 'start:pipeline', "running stage 'report': 4 deps changed"),
  line(16.2, 'start', 'flight-delay v1 (gbdt): promoted'),
  line(16.25, 'api', 'listening'),
  'stage     status  duration  details',
].join('\n');

test('the timeline: boot, ingest, each stage until the next one starts, the pipeline until its summary, serving', () => {
  const t = startTimeline(LOG, { launched, served: launched + 16_400 });
  assert.deepEqual(t, {
    boot_s: 1.5,
    ingest_s: 1.8,
    stages: { validate: 0.6, train: 11, report: 1.1 },
    stage_cpu_s: { validate: 0.42 },
    pipeline_s: 12.7,
    listening_s: 16.25,
    serving_s: 16.4,
  });
});

test('a run that never got there says null, not a made-up figure', () => {
  const partial = LOG.split('\n').slice(0, 8).join('\n');
  const t = startTimeline(partial, { launched });
  assert.equal(t.pipeline_s, null);
  assert.equal(t.serving_s, null);
  assert.equal(t.listening_s, null);
  assert.deepEqual(t.stages, {}, 'a stage without an end is left out');
  assert.equal(startTimeline('', { launched }).boot_s, null);
});

test('only JSON lines with a time and a message are read', () => {
  assert.equal(parseLogLines(LOG).length, 11);
  assert.deepEqual(parseLogLines('{"time":"nope","msg":"x"}\n{"time":"2026-01-01T00:00:00Z"}'), []);
});
