/**
 * Every number in a metrics file shows in `dvc metrics show`: DVC 3 keeps numbers, strings and
 * booleans inside objects and silently drops lists and nulls (`_extract_metrics` in
 * dvc/repo/metrics/show.py). Files are written keyed and without nulls, and read back by the same
 * schemas in the shape readers have always had (older files with lists still read).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  METRICS_FILES,
  dvcDroppedPaths,
  dvcMetricsView,
  encodeForDvc,
  gtoTagAction,
  parseMetrics,
  writeMetricsFile,
  type MetricsFileKind,
  withoutNulls,
} from './metrics-files.ts';

const TESTDATA = join(import.meta.dirname, 'testdata', 'lists-and-nulls');
const REPO = join(import.meta.dirname, '..', '..');

/** In a metric map, null and absent read alike (metricOf), so files are compared without their nulls. */
const nullsOut = withoutNulls;

/** Leaves of an object as dotted paths (DVC's flattened view). */
function leaves(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [path];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
}

test("DVC's rule, by hand: numbers, strings and booleans stay; lists, nulls and emptied objects go", () => {
  const file = { a: 1, b: 'x', c: true, d: null, e: [1, 2], f: {}, g: { h: null, i: 0 }, j: { k: [] } };
  assert.deepEqual(dvcMetricsView(file), { a: 1, b: 'x', c: true, g: { i: 0 } });
  assert.deepEqual(dvcDroppedPaths(file), ['d', 'e', 'g.h', 'j.k']);
  assert.deepEqual(dvcDroppedPaths({ a: { b: 2 } }), []);
});

test('GTO tag actions follow the tag grammar', () => {
  assert.equal(gtoTagAction('flight-delay@v4.0.0'), 'register');
  assert.equal(gtoTagAction('flight-delay@v2.0.0!'), 'deregister');
  assert.equal(gtoTagAction('flight-delay#production#5'), 'assign');
  assert.equal(gtoTagAction('flight-delay#staging!#6'), 'unassign');
});

const KIND_OF: Record<string, MetricsFileKind> = {
  validate: 'validate',
  prepare: 'prepare',
  train: 'train',
  experiments: 'experiments',
  evaluate: 'evaluate',
  register: 'register',
  drift: 'dataDrift',
};

test('files with lists and nulls (as stages wrote them before): encoded, nothing is dropped and readers get the same values', async () => {
  const names = (await readdir(TESTDATA)).filter((f) => f.endsWith('.json')).sort();
  assert.ok(names.length >= 10, 'fixtures of every metrics file, with lists and nulls');
  let droppedBefore = 0;
  for (const name of names) {
    const kind = KIND_OF[name.replace(/(-[a-z]+)?\.json$/, '')];
    assert.ok(kind, `no kind for ${name}`);
    const old = JSON.parse(await readFile(join(TESTDATA, name), 'utf8')) as unknown;
    droppedBefore += dvcDroppedPaths(old).length;
    const encoded = encodeForDvc(kind, old);
    assert.deepEqual(dvcDroppedPaths(encoded), [], `${name}: dvc metrics show would drop these`);
    // DVC's view keeps every leaf of the file: nothing written is invisible to `dvc metrics diff`.
    assert.deepEqual(
      leaves(dvcMetricsView(encoded)),
      leaves(encoded).filter((l) => !l.endsWith('{}')),
      name,
    );
    assert.deepEqual(
      nullsOut(parseMetrics(kind, { json: encoded })),
      nullsOut(parseMetrics(kind, { json: old })),
      `${name}: readers see the same`,
    );
  }
  assert.ok(droppedBefore >= 10, `the fixtures exercise dropped values (${droppedBefore})`);
});

test('what the encoding looks like: intervals, examples, tags, drifted features, dropped columns', async () => {
  const load = async (name: string) => JSON.parse(await readFile(join(TESTDATA, name), 'utf8')) as unknown;
  const ev = encodeForDvc('evaluate', await load('evaluate.json')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- reading an encoded file's fields
  assert.deepEqual(Object.keys(ev.test_ci.roc_auc), ['low', 'high']);
  assert.equal(typeof ev.edge_cases.examples['date: missing'].outcome, 'string');
  const reg = encodeForDvc('register', await load('register-second.json')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
  assert.deepEqual(reg.gto_tags, {
    'flight-delay@v4.0.0': 'register',
    'flight-delay#production#5': 'assign',
    'flight-delay#staging!#6': 'unassign',
    'flight-delay@v2.0.0!': 'deregister',
  });
  assert.deepEqual(
    parseMetrics('register', { json: reg }).gto_tags,
    Object.keys(reg.gto_tags as object),
    'tags keep their order',
  );
  assert.equal(reg.production_before.metrics.pr_auc, undefined, 'a null metric is left out');
  const drift = encodeForDvc('dataDrift', await load('drift-ok.json')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
  assert.deepEqual(drift.drifted_features, { distance: 0.21, origin: 0.15 });
  assert.equal(
    parseMetrics('dataDrift', { json: drift }).features?.destination.score,
    null,
    'absent score reads as null',
  );
  const none = encodeForDvc('dataDrift', await load('drift.json')) as Record<string, unknown>;
  assert.equal('production_version' in none, false);
  assert.equal(parseMetrics('dataDrift', { json: none }).production_version, null);
  const validate = encodeForDvc('validate', await load('validate-dropped.json')) as Record<string, unknown>;
  assert.deepEqual(validate.dropped_columns, { tail_number: 'dropped', notes: 'dropped' });
});

test('writeMetricsFile refuses what DVC would drop or the schema refuses, naming the field; writes the encoded file', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'metrics-dvc-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const base = JSON.parse(await readFile(join(TESTDATA, 'register-second.json'), 'utf8')) as Record<string, unknown>;
  await assert.rejects(
    writeMetricsFile(root, 'register', { ...base, extra: [1, 2] }),
    /would drop extra \(lists and nulls\)/,
  );
  await assert.rejects(writeMetricsFile(root, 'register', { ...base, version: 'four' }), /invalid `version`/);
  await writeMetricsFile(root, 'register', base);
  const written = JSON.parse(await readFile(join(root, METRICS_FILES.register.path), 'utf8')) as unknown;
  assert.deepEqual(dvcDroppedPaths(written), []);
  assert.deepEqual(
    nullsOut(parseMetrics('register', { json: written })),
    nullsOut(parseMetrics('register', { json: base })),
  );
});

/** Absolute paths of this or another machine: POSIX roots that hold checkouts and temp dirs, or a drive letter. */
const ABSOLUTE = /(?:^|["'\s=])(?:\/(?:work|tmp|home|Users|root|var|private|mnt|runner|github)\/|[A-Za-z]:\\)/;

test('committed pipeline outputs show every number in dvc metrics show and hold no absolute path', async () => {
  const metricsDir = join(REPO, 'metrics');
  for (const [kind, file] of Object.entries(METRICS_FILES)) {
    if (file.dvc !== 'metrics') continue;
    const text = await readFile(join(REPO, file.path), 'utf8').catch(() => null);
    if (text === null) continue;
    assert.deepEqual(dvcDroppedPaths(JSON.parse(text)), [], `${file.path} (${kind}): re-run its stage`);
  }
  const texts: [string, string][] = [['dvc.lock', await readFile(join(REPO, 'dvc.lock'), 'utf8')]];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else if (/\.(json|md|csv|ya?ml)$/.test(e.name))
        texts.push([join(dir, e.name), await readFile(join(dir, e.name), 'utf8')]);
    }
  };
  await walk(metricsDir);
  const absolute = texts.filter(([, t]) => ABSOLUTE.test(t)).map(([f, t]) => `${f}: ${ABSOLUTE.exec(t)![0]}`);
  assert.deepEqual(absolute, []);
  assert.ok(ABSOLUTE.test('"registry": "/work/fresh/registry"') && !ABSOLUTE.test('"registry": "registry"'));
});
