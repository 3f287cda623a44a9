import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PyFloat } from './pyjson.ts';
import { dumpYamlLikeDvc, parseYamlPy, pyEquals } from './yaml.ts';

type Tagged = { t: string; v?: unknown };
function untag(t: Tagged): unknown {
  switch (t.t) {
    case 'b':
    case 's':
      return t.v;
    case 'n':
      return null;
    case 'i':
      return Number(t.v);
    case 'f': {
      const x = t.v === 'inf' ? Infinity : Number(t.v);
      return Number.isInteger(x) ? new PyFloat(x) : x;
    }
    case 'l':
      return (t.v as Tagged[]).map(untag);
    default:
      return Object.fromEntries((t.v as Array<[string, Tagged]>).map(([k, x]) => [k, untag(x)]));
  }
}

// The vectors were produced by ruamel.yaml (the library DVC writes its files with) from random
// values covering quoting, escaping, folding of long lines, unicode and nesting.
test('dumpYamlLikeDvc matches ruamel.yaml output for 120 recorded values', () => {
  const fixture = JSON.parse(readFileSync(new URL('./testdata/ruamel-vectors.json', import.meta.url), 'utf8')) as {
    cases: Array<{ value: Tagged; yaml: string }>;
  };
  assert.ok(fixture.cases.length >= 100);
  for (const [i, c] of fixture.cases.entries()) assert.equal(dumpYamlLikeDvc(untag(c.value)), c.yaml, `case ${i}`);
});

test('dumpYamlLikeDvc writes a dvc.lock the way DVC does', () => {
  const lock = {
    schema: '2.0',
    stages: {
      train: {
        cmd: 'python src/evaluate.py model.pkl data/features scores.json prc.json roc.json and more words here',
        deps: [{ path: 'data', hash: 'md5', md5: 'ecf8f6613d6b2a92c412c00f6a32657c.dir', size: 12, nfiles: 2 }],
        params: {
          'params.yaml': { lr: 1e-5, x: new PyFloat(1), s: 'yes', n: null, l: [1, 2], e: [], q: "it's", m: 'a\nb' },
        },
      },
    },
  };
  assert.equal(
    dumpYamlLikeDvc(lock),
    [
      "schema: '2.0'",
      'stages:',
      '  train:',
      '    cmd: python src/evaluate.py model.pkl data/features scores.json prc.json roc.json',
      '      and more words here',
      '    deps:',
      '    - path: data',
      '      hash: md5',
      '      md5: ecf8f6613d6b2a92c412c00f6a32657c.dir',
      '      size: 12',
      '      nfiles: 2',
      '    params:',
      '      params.yaml:',
      '        lr: 1e-05',
      '        x: 1.0',
      '        s: yes',
      '        n:',
      '        l:',
      '        - 1',
      '        - 2',
      '        e: []',
      "        q: it's",
      '        m: "a\\nb"',
      '',
    ].join('\n'),
  );
});

test('dumpYamlLikeDvc refuses keys ruamel would write as complex keys', () => {
  assert.throws(() => dumpYamlLikeDvc({ '': 1 }), /complex key/);
  assert.throws(() => dumpYamlLikeDvc({ 'a\nb': 1 }), /complex key/);
  assert.throws(() => dumpYamlLikeDvc({ f: Symbol('x') }), /cannot write/);
});

test('parseYamlPy keeps the int/float distinction and round-trips', () => {
  const v = parseYamlPy('a: 1\nb: 1.0\nc: 2.5\nd: 12345678901234567890\ne: "2.0"\nf: 1e3\n', 't') as Record<
    string,
    unknown
  >;
  assert.equal(v.a, 1);
  assert.ok(v.b instanceof PyFloat);
  assert.equal(v.c, 2.5);
  assert.equal(v.d, 12345678901234567890n);
  assert.equal(v.e, '2.0');
  assert.ok(v.f instanceof PyFloat);
  assert.equal(dumpYamlLikeDvc(v), "a: 1\nb: 1.0\nc: 2.5\nd: 12345678901234567890\ne: '2.0'\nf: 1000.0\n");
  assert.throws(() => parseYamlPy('a: [1', 'bad.yaml'), /bad\.yaml: invalid YAML/);
});

test('pyEquals follows Python equality', () => {
  assert.ok(pyEquals(1, new PyFloat(1)));
  assert.ok(pyEquals(10n, 10));
  assert.ok(pyEquals({ a: [1, { b: 'x' }] }, { a: [new PyFloat(1), { b: 'x' }] }));
  assert.ok(!pyEquals({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(!pyEquals([1], [1, 2]));
  assert.ok(!pyEquals('1', 1));
  assert.ok(!pyEquals(null, 0));
});
