import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleManifest } from './bundle-files.ts';
import { RegistryError } from './names.ts';
import { parseModelState, parseVersionMeta, type ModelState } from './schema.ts';
import {
  applyArchive,
  applyDemote,
  applyRegister,
  applyRollback,
  applySetStage,
  checkState,
  emptyState,
  rollbackTarget,
  type ChangeContext,
} from './state.ts';

let n = 0;
function ctx(reason: string | null = 'because'): ChangeContext {
  n++;
  return {
    tx: `tx-${n}`,
    at: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    actor: 'alice',
    source: 'test',
    reason,
  };
}
const bundle = bundleManifest('bundles/m/b1946ac92492d2347c6235b4d2611184', [
  { relpath: 'model.json', md5: 'b1946ac92492d2347c6235b4d2611184', size: 6 },
]);

function registered(count: number): ModelState {
  let s = emptyState('m');
  for (let i = 0; i < count; i++)
    s = applyRegister(s, ctx(null), bundle, parseVersionMeta({ metrics: { auc: 0.5 + i / 100 } }));
  return s;
}

function promote(s: ModelState, stage: string, v: number): ModelState {
  return applySetStage(s, ctx(), stage, v)!;
}

test('register numbers versions 1, 2, 3 and records one event each with its GTO tag', () => {
  const s = registered(3);
  assert.deepEqual(
    s.versions.map((v) => v.version),
    [1, 2, 3],
  );
  assert.deepEqual(
    s.history.map((e) => [e.seq, e.type, e.from, e.to, e.tags[0]]),
    [
      [1, 'register', null, 1, 'm@v1.0.0'],
      [2, 'register', 1, 2, 'm@v2.0.0'],
      [3, 'register', 2, 3, 'm@v3.0.0'],
    ],
  );
  assert.equal(s.revision, 3);
  assert.equal(s.versions[2].metrics.auc, 0.52);
  assert.equal(s.versions[0].registered_by, 'alice');
  assert.deepEqual(checkState(s), []);
});

test('promote moves a stage, records from → to, and is a no-op when already there', () => {
  let s = registered(2);
  s = promote(s, 'production', 1);
  s = promote(s, 'staging', 2);
  s = promote(s, 'production', 2);
  assert.deepEqual(s.stages, { production: 2, staging: 2 });
  const last = s.history.at(-1)!;
  assert.deepEqual(
    [last.type, last.stage, last.from, last.to, last.reason, last.actor, last.source],
    ['promote', 'production', 1, 2, 'because', 'alice', 'test'],
  );
  // GTO's counter: one number per assign tag of the model, whatever the stage.
  assert.deepEqual(
    s.history.filter((e) => e.type === 'promote').map((e) => e.tags[0]),
    ['m#production#1', 'm#staging#2', 'm#production#3'],
  );
  assert.equal(applySetStage(s, ctx(), 'production', 2), null);
  assert.throws(
    () => applySetStage(s, ctx(), 'production', 9),
    (e: RegistryError) => e.code === 'not-found' && /no version 9 \(known versions: 1, 2\)/.test(e.message),
  );
  assert.throws(() => applySetStage(s, ctx(), 'Prod', 1), /invalid stage/);
  assert.deepEqual(checkState(s), []);
});

test('rollback walks back like undo, never to a version the stage did not hold', () => {
  let s = registered(4);
  assert.throws(() => rollbackTarget(s, 'production'), /nothing at stage 'production'/);
  s = promote(s, 'production', 1);
  assert.throws(() => applyRollback(s, ctx(), 'production'), /no earlier version/);
  s = promote(s, 'staging', 4); // other stages do not interfere
  s = promote(s, 'production', 2);
  s = promote(s, 'production', 3);
  s = applyRollback(s, ctx(), 'production');
  assert.equal(s.stages.production, 2);
  assert.deepEqual([s.history.at(-1)!.type, s.history.at(-1)!.from, s.history.at(-1)!.to], ['rollback', 3, 2]);
  s = applyRollback(s, ctx(), 'production');
  assert.equal(s.stages.production, 1);
  assert.throws(() => applyRollback(s, ctx(), 'production'), /no earlier version/);
  // A new promotion after rollbacks is undone first.
  s = promote(s, 'production', 4);
  s = applyRollback(s, ctx(), 'production');
  assert.equal(s.stages.production, 1);
  assert.equal(s.stages.staging, 4);
  assert.deepEqual(checkState(s), []);
});

test('demote clears a stage (rollback restores it); archive retires unstaged versions', () => {
  let s = registered(2);
  s = promote(s, 'production', 1);
  s = promote(s, 'production', 2);
  s = applyDemote(s, ctx(null), 'production')!;
  assert.equal(s.stages.production, undefined);
  assert.deepEqual(s.history.at(-1)!.tags, ['m#production!#3']);
  assert.equal(applyDemote(s, ctx(), 'production'), null);
  s = applyRollback(s, ctx(), 'production');
  assert.equal(s.stages.production, 2);
  assert.throws(() => applyArchive(s, ctx(), 2), /is at production; demote it/);
  s = applyArchive(s, ctx(), 1)!;
  assert.deepEqual(s.archived, [1]);
  assert.deepEqual(s.history.at(-1)!.tags, ['m@v1.0.0!']);
  assert.equal(applyArchive(s, ctx(), 1), null);
  assert.throws(() => applySetStage(s, ctx(), 'staging', 1), /archived/);
  // The rollback target (v1) is archived now: refused rather than silently skipped.
  assert.throws(() => applyRollback(s, ctx(), 'production'), /archived/);
  assert.deepEqual(checkState(s), []);
});

test('checkState catches documents whose history and pointers disagree', () => {
  let s = promote(registered(2), 'production', 1);
  assert.deepEqual(checkState({ ...s, stages: { production: 2 } }), ['stage production is v2 but its history says v1']);
  assert.match(checkState({ ...s, stages: { production: 7 } }).join('\n'), /points at missing version 7/);
  assert.match(checkState({ ...s, history: s.history.slice(1) }).join('\n'), /history event 1 has seq 2/);
  const dup = { ...s, history: [...s.history, { ...s.history[2], seq: 4 }] };
  assert.match(checkState(dup).join('\n'), /repeats write/);
  assert.match(
    checkState({ ...s, versions: s.versions.slice(0, 1) }).join('\n'),
    /registers 2 versions, the document lists 1/,
  );
  s = { ...s, archived: [2] };
  assert.match(checkState(s).join('\n'), /archived versions disagree/);
});

test('schema: metadata defaults and validation; state documents round-trip and reject damage', () => {
  assert.deepEqual(parseVersionMeta({}), {
    metrics: {},
    params: {},
    data_md5: null,
    git_commit: null,
    created_at: null,
    extra: {},
  });
  assert.throws(() => parseVersionMeta({ metrics: 3 }), /invalid version metadata: metrics/);
  assert.throws(() => parseVersionMeta({ created_at: 'yesterday' }), /created_at: expected an ISO 8601 time/);
  assert.throws(() => parseVersionMeta({ surprise: 1 }), /invalid version metadata/);
  const s = promote(registered(1), 'production', 1);
  assert.deepEqual(parseModelState(JSON.stringify(s), 'x.json'), s);
  assert.throws(
    () => parseModelState('{"schema":1,', 'x.json'),
    (e: RegistryError) => e.code === 'corrupt' && /x\.json: not valid JSON/.test(e.message),
  );
  assert.throws(
    () => parseModelState(JSON.stringify({ ...s, stages: { production: 'one' } }), 'x.json'),
    /x\.json: not a registry state document: stages\.production/,
  );
  // A tampered document cannot make reads or downloads escape the registry or the destination.
  const tampered = (bundlePatch: object) =>
    JSON.stringify({ ...s, versions: [{ ...s.versions[0], bundle: { ...s.versions[0].bundle, ...bundlePatch } }] });
  assert.throws(
    () => parseModelState(tampered({ path: '../../etc' }), 'x.json'),
    /versions\.0\.bundle\.path: expected bundles\/<model>\/<md5>/,
  );
  assert.throws(
    () =>
      parseModelState(
        tampered({ files: [{ relpath: '../evil', md5: 'b1946ac92492d2347c6235b4d2611184', size: 6 }] }),
        'x.json',
      ),
    /bundle\.files\.0\.relpath/,
  );
});
