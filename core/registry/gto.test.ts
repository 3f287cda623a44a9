import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gtoDeregisterTag, gtoTagNames, gtoUnassignTag, parseGtoTag } from './gto.ts';
import { RegistryError, assertModelName, assertStageName, parseVersionNumber } from './names.ts';

test('gtoTagNames follows GTO: <name>@v<N> registers, <name>#<stage>#<K> assigns', () => {
  assert.deepEqual(gtoTagNames('flight-delay', 3), { register: 'flight-delay@v3' });
  assert.deepEqual(gtoTagNames('flight-delay', 3, 'production'), { register: 'flight-delay@v3', assign: 'flight-delay#production#3' });
  assert.deepEqual(gtoTagNames('flight-delay', 3, 'production', 7), { register: 'flight-delay@v3', assign: 'flight-delay#production#7' });
  assert.equal(gtoDeregisterTag('flight-delay', 2), 'flight-delay@v2!');
  assert.equal(gtoUnassignTag('flight-delay', 'staging', 4), 'flight-delay#staging!#4');
  assert.throws(() => gtoTagNames('Flight', 1), RegistryError);
  assert.throws(() => gtoTagNames('flight', 0), /versions are 1, 2, 3/);
  assert.throws(() => gtoTagNames('flight', 1, 'Prod'), /invalid stage/);
});

test('parseGtoTag reads back every tag it makes, and nothing else', () => {
  for (const [tag, parsed] of [
    ['flight-delay@v3', { action: 'register', name: 'flight-delay', version: 3 }],
    ['flight-delay@v3.0.0', { action: 'register', name: 'flight-delay', version: 3 }],
    ['flight-delay@v12!', { action: 'deregister', name: 'flight-delay', version: 12 }],
    ['flight-delay#production#7', { action: 'assign', name: 'flight-delay', stage: 'production', counter: 7 }],
    ['m2#canary-eu!#1', { action: 'unassign', name: 'm2', stage: 'canary-eu', counter: 1 }],
  ] as const) {
    assert.deepEqual(parseGtoTag(tag), parsed, tag);
  }
  const made = gtoTagNames('churn', 5, 'staging', 9);
  assert.deepEqual(parseGtoTag(made.register), { action: 'register', name: 'churn', version: 5 });
  assert.deepEqual(parseGtoTag(made.assign!), { action: 'assign', name: 'churn', stage: 'staging', counter: 9 });
  for (const other of ['v1.2.3', 'flight-delay', 'flight-delay@latest', 'flight-delay@v0', 'flight-delay#prod', 'Flight@v1', 'a#b#c', 'x@v1.2.3', '']) {
    assert.equal(parseGtoTag(other), null, other);
  }
});

test('names and version numbers', () => {
  assert.equal(assertModelName('flight-delay'), 'flight-delay');
  for (const bad of ['', 'Flight', 'a/b', 'a@b', 'a#b', '-a', 'a-', 'a b', '..']) assert.throws(() => assertModelName(bad), RegistryError, bad);
  assert.equal(assertStageName('production'), 'production');
  for (const bad of ['', 'Prod', '1st', 'a_b', 'a#b']) assert.throws(() => assertStageName(bad), RegistryError, bad);
  assert.equal(parseVersionNumber('3'), 3);
  assert.equal(parseVersionNumber('v12'), 12);
  for (const bad of ['0', 'v0', '01', '-1', '1.5', 'latest', '']) assert.equal(parseVersionNumber(bad), null, bad);
});
