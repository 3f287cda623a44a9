import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gtoDeregisterTag, gtoTagNames, gtoUnassignTag, gtoVersion, isGtoTag, parseGtoTag } from './gto.ts';
import { RegistryError, assertModelName, assertStageName, parseVersionNumber } from './names.ts';

test('gtoTagNames follows GTO: <name>@v<N>.0.0 registers, <name>#<stage>#<K> assigns', () => {
  assert.equal(gtoVersion(3), 'v3.0.0');
  assert.deepEqual(gtoTagNames('flight-delay', 3), { register: 'flight-delay@v3.0.0' });
  assert.deepEqual(gtoTagNames('flight-delay', 3, 'production'), {
    register: 'flight-delay@v3.0.0',
    assign: 'flight-delay#production#3',
  });
  assert.deepEqual(gtoTagNames('flight-delay', 3, 'production', 7), {
    register: 'flight-delay@v3.0.0',
    assign: 'flight-delay#production#7',
  });
  assert.equal(gtoDeregisterTag('flight-delay', 2), 'flight-delay@v2.0.0!');
  assert.equal(gtoUnassignTag('flight-delay', 'staging', 4), 'flight-delay#staging!#4');
  assert.throws(() => gtoTagNames('Flight', 1), RegistryError);
  assert.throws(() => gtoTagNames('flight', 0), /versions are 1, 2, 3/);
  assert.throws(() => gtoTagNames('flight', 1, 'Prod'), /invalid stage/);
});

// Vectors from GTO's own tests of its tag grammar (tests/test_tag.py, tests/test_constants.py).
test("isGtoTag accepts exactly what GTO's tag grammar accepts", () => {
  for (const good of [
    'path@v1.2.3',
    'path@v1.2.3#5',
    'path@v1.2.3!',
    'path@v1.2.3!#2',
    'path#stage',
    'path#stage#1',
    'path#stage!#2',
    'dvclive=model@v0.1.0',
    'some/folder=some/model#prod#3',
    'Some/folder/A=Model@v1.0.0-rc.1+build.5',
    'model@deprecated',
    'model@created#4',
  ])
    assert.ok(isGtoTag(good), good);
  for (const bad of [
    '',
    '###',
    '@@@',
    'model@v1',
    'nn#prod#-1',
    'model@v111',
    'model-prod',
    'model@0.0.1',
    'model-prod-v1',
    'model#prod#-1',
    'model#prod#1-2',
    'model#prod?#1-2',
    'model#prod@v1.2.3',
    'model@v1.2.3#prod',
    'model-prod-v1-stage',
    'model@prod@v1@stage-1',
    'namespace/model@0.0.1',
    '@namespace/model@0.0.1',
    'model#prod#v1#stage#1-',
    'model#prod-v1-stage@1-2',
    'model#prod-v1-stage@1-2#@',
    'model@v01.0.0',
    'model@v1.0',
    '-model@v1.0.0',
    'model-@v1.0.0',
    'dir:model@v1.0.0',
  ])
    assert.ok(!isGtoTag(bad), bad);
});

test('every tag the registry makes is a GTO tag, and parseGtoTag reads it back', () => {
  const made = [gtoTagNames('churn', 5, 'staging', 9), gtoTagNames('flight-delay', 12)];
  const all = [
    made[0].register,
    made[0].assign!,
    made[1].register,
    gtoDeregisterTag('m2', 3),
    gtoUnassignTag('m2', 'canary-eu', 1),
  ];
  for (const tag of all) assert.ok(isGtoTag(tag), tag);
  assert.deepEqual(all.map(parseGtoTag), [
    { action: 'register', name: 'churn', version: 5 },
    { action: 'assign', name: 'churn', stage: 'staging', counter: 9 },
    { action: 'register', name: 'flight-delay', version: 12 },
    { action: 'deregister', name: 'm2', version: 3 },
    { action: 'unassign', name: 'm2', stage: 'canary-eu', counter: 1 },
  ]);
});

test('parseGtoTag: null for the old non-semver tags and for GTO tags the registry never makes', () => {
  for (const other of [
    'flight-delay@v3',
    'flight-delay@v3!',
    'v1.2.3',
    'flight-delay',
    'flight-delay@latest',
    'flight-delay@v0.0.0',
    'flight-delay#prod',
    'Flight@v1.0.0',
    'x@v1.2.3',
    'x@v1.0.0-rc.1',
    'x@v1.0.0#2',
    'x@deprecated',
    'dir=x@v1.0.0',
    'x#Prod#1',
    '',
  ])
    assert.equal(parseGtoTag(other), null, other);
});

test('names and version numbers', () => {
  assert.equal(assertModelName('flight-delay'), 'flight-delay');
  for (const bad of ['', 'Flight', 'a/b', 'a@b', 'a#b', '-a', 'a-', 'a b', '..'])
    assert.throws(() => assertModelName(bad), RegistryError, bad);
  assert.equal(assertStageName('production'), 'production');
  for (const bad of ['', 'Prod', '1st', 'a_b', 'a#b']) assert.throws(() => assertStageName(bad), RegistryError, bad);
  assert.equal(parseVersionNumber('3'), 3);
  assert.equal(parseVersionNumber('v12'), 12);
  for (const bad of ['0', 'v0', '01', '-1', '1.5', 'latest', '']) assert.equal(parseVersionNumber(bad), null, bad);
});
