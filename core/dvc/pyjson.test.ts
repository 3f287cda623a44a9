import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCodePoints, PyFloat, pythonFloatRepr, pythonJsonDumps } from './pyjson.ts';

// Expected strings produced by CPython 3.11 (repr / json.dumps(..., sort_keys=True)).
test('pythonFloatRepr matches repr(float)', () => {
  const cases: Array<[number, string]> = [
    [0.1, '0.1'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [1234567890123456, '1234567890123456.0'],
    [1e22, '1e+22'],
    [1.5e300, '1.5e+300'],
    [123.456, '123.456'],
    [1, '1.0'],
    [100, '100.0'],
    [1e-7, '1e-07'],
    [5e-324, '5e-324'],
    [-0.25, '-0.25'],
    [1.2345678901234567e19, '1.2345678901234567e+19'],
    [2.5e-10, '2.5e-10'],
    [0.1 + 0.2, '0.30000000000000004'],
    [2 ** 53 + 1, '9007199254740992.0'], // 9007199254740993 is not a double: it rounds to 2^53
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [0, '0.0'],
    [-0, '-0.0'],
  ];
  for (const [x, want] of cases) assert.equal(pythonFloatRepr(x), want, String(x));
});

test('pythonJsonDumps reproduces json.dumps(sort_keys=True) byte for byte', () => {
  assert.equal(
    pythonJsonDumps([{ relpath: 'a.txt', md5: 'b1946ac92492d2347c6235b4d2611184' }], { sortKeys: true }),
    '[{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "a.txt"}]',
  );
  assert.equal(
    pythonJsonDumps(
      { b: 1, a: [1, 2.5, null, true, false], é: 'ü日本😀', ctl: '\x00\x1f\x7f"\\\n\t\r\b\f/' },
      { sortKeys: true },
    ),
    '{"a": [1, 2.5, null, true, false], "b": 1, "ctl": "\\u0000\\u001f\\u007f\\"\\\\\\n\\t\\r\\b\\f/", "\\u00e9": "\\u00fc\\u65e5\\u672c\\ud83d\\ude00"}',
  );
  // Python sorts keys by code point: U+E000 before U+1F600, unlike UTF-16 order.
  assert.equal(
    pythonJsonDumps({ z: {}, y: [], x: '', '\ue000': 1, '\u{1f600}': 2, 'a\u2028b': 3 }, { sortKeys: true }),
    '{"a\\u2028b": 3, "x": "", "y": [], "z": {}, "\\ue000": 1, "\\ud83d\\ude00": 2}',
  );
});

test('pythonJsonDumps keeps key order without sortKeys and formats floats like Python', () => {
  assert.equal(pythonJsonDumps({ b: 1, a: 2 }), '{"b": 1, "a": 2}');
  assert.equal(
    pythonJsonDumps([new PyFloat(1), 1e-5, NaN, Infinity, -Infinity, 10n]),
    '[1.0, 1e-05, NaN, Infinity, -Infinity, 10]',
  );
  assert.throws(() => pythonJsonDumps({ f: () => 1 }), /cannot encode/);
});

test('compareCodePoints orders like Python str comparison', () => {
  const names = ['b', 'a/b', 'a.txt', '\u{1f600}', '\ue000', 'a', 'A', 'ab'];
  assert.deepEqual([...names].sort(compareCodePoints), ['A', 'a', 'a.txt', 'a/b', 'ab', 'b', '\ue000', '\u{1f600}']);
  assert.equal(compareCodePoints('x', 'x'), 0);
});
