import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePipeline } from '../../core/dvc/index.ts';
import { buildGraph, selectStages } from './graph.ts';

const ROOT = '/repo';
const graphOf = (yaml: string) => buildGraph(ROOT, parsePipeline(yaml).stages);

test('order follows deps/outs, including parent and child paths, ties in dvc.yaml order', () => {
  const g = graphOf(`
stages:
  report:
    cmd: r
    deps: [metrics/eval.json, models]
  evaluate:
    cmd: e
    deps: [models/m1/weights.bin, data/prepared]
    metrics: [metrics/eval.json]
  train:
    cmd: t
    deps: [data/prepared/train.csv]
    outs: [models/m1]
  prepare:
    cmd: p
    deps: [data/raw]
    outs: [data/prepared]
  lint:
    cmd: l
`);
  assert.deepEqual(g.order, ['prepare', 'train', 'evaluate', 'report', 'lint']);
  assert.deepEqual([...g.nodes.get('evaluate')!.upstream].sort(), ['prepare', 'train']);
  assert.deepEqual([...g.nodes.get('report')!.upstream].sort(), ['evaluate', 'train']);
  assert.deepEqual(selectStages(g, ['train']), ['prepare', 'train']);
  assert.deepEqual(selectStages(g, ['lint', 'prepare']), ['prepare', 'lint']);
  assert.throws(
    () => selectStages(g, ['trian']),
    /unknown stage 'trian'; dvc\.yaml defines: prepare, train, evaluate, report, lint/,
  );
});

test('wdir-relative paths are resolved before matching', () => {
  const g = graphOf(`
stages:
  b:
    cmd: b
    wdir: training
    deps: [../data/x.csv]
  a:
    cmd: a
    outs: [data/x.csv]
`);
  assert.deepEqual(g.order, ['a', 'b']);
  assert.deepEqual(g.nodes.get('b')!.deps, ['data/x.csv']);
});

test('cycles, duplicate and overlapping outputs, and self-dependencies are errors', () => {
  assert.throws(
    () =>
      graphOf(`
stages:
  a: {cmd: a, deps: [y], outs: [x]}
  b: {cmd: b, deps: [x], outs: [y]}
`),
    /dependency cycle: (a -> b -> a|b -> a -> b)/,
  );
  assert.throws(
    () =>
      graphOf(`
stages:
  a: {cmd: a, outs: [out/model]}
  b: {cmd: b, outs: [out/model/]}
`),
    /output 'out\/model' is declared by stages 'a' and 'b'/,
  );
  assert.throws(
    () =>
      graphOf(`
stages:
  a: {cmd: a, outs: [out]}
  b: {cmd: b, metrics: [out/m.json]}
`),
    /outputs 'out' \(stage 'a'\) and 'out\/m\.json' \(stage 'b'\) overlap/,
  );
  assert.throws(
    () =>
      graphOf(`
stages:
  a: {cmd: a, deps: [out/x], outs: [out]}
`),
    /stage 'a' depends on its own output 'out'/,
  );
});
