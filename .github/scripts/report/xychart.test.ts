import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkXychart, parseXychart } from './xychart-check.ts';
import { XY_DIRECTIVE, xyLabel, xyNumber, xychartBlock, xychartSource } from './xychart.ts';

// Vectors in the shape of Mermaid's own parser spec (xychart.jison.spec.ts): what it accepts and rejects.
const ACCEPTED = [
  'xychart',
  'xychart-beta',
  'xychart \n title "This is a title"',
  'xychart \n title oneLinertitle',
  'xychart        horizontal        ',
  'xychart \nx-axis xAxisName    45.5   -->   .34   \n',
  'xychart \nx-axis    [  "cat1"  ,   cat2a  ]   \n   ',
  'xychart \ny-axis yAxisName    45.5   -->   33   \n',
  'xychart\nx-axis xAxisName\ny-axis yAxisName\n line [  +23 , -45  , 56.6 , .33]   ',
  'xychart-beta\n  bar "a b" [1, 2]\n  line [3, 4]',
];
const REJECTED = [
  'xychart-1',
  'xychart abc',
  'xychart \nx-axis xAxisName    aaa   -->   33   \n',
  'xychart \nx-axis xAxisName    [  "cat1"  [   cat2a  ]   \n   ',
  'xychart \nx-axis xAxisName    [  "cat1"  ,   cat2a ] ]   \n   ',
  'xychart \ny-axis yAxisName    [ 45.3,   33 ]   \n',
  'xychart\nline "t"   [  +23 [ -45  , 56.6 ]   ',
  'xychart\nline "t"   ',
  'xychart\nline "t"  [ ] ',
  'xychart\nline "t"   [  +23 ,  , -45  , 56.6 ]   ',
  'xychart\nline "t"   [  +23 , -4aa5  , 56.6 ]   ',
  'xychart\nline "t" [1e3, 2]',
  'title "no header"',
];

test('the checker accepts and rejects what Mermaid’s xychart grammar does', () => {
  for (const s of ACCEPTED) assert.doesNotThrow(() => parseXychart(s), s);
  for (const s of REJECTED) assert.throws(() => parseXychart(s), /xychart:/, JSON.stringify(s));
});

test('the checker reads titles, axes and series the way Mermaid does', () => {
  const c = parseXychart(
    'xychart-beta horizontal\n title "T 1"\n x-axis "x" ["a", b, "c d"]\n y-axis "y" 0 --> 1.5\n bar "s one" [+1, -2, .5]\n line [1, 2, 3]',
  );
  assert.equal(c.orientation, 'horizontal');
  assert.equal(c.title, 'T 1');
  assert.deepEqual(c.xAxis, { title: 'x', categories: ['a', 'b', 'c d'] });
  assert.deepEqual(c.yAxis, { title: 'y', range: [0, 1.5] });
  assert.deepEqual(c.plots, [
    { type: 'bar', name: 's one', data: [1, -2, 0.5] },
    { type: 'line', name: '', data: [1, 2, 3] },
  ]);
  // `line` is a keyword only as a whole word: "lines" is a title made of letters.
  assert.equal(parseXychart('xychart\ntitle lines').title, 'lines');
});

test('semantic checks: a plot is needed, and one value per category', () => {
  assert.throws(() => checkXychart('xychart-beta\n title "t"'), /No Plot to render/);
  assert.throws(
    () => checkXychart('xychart-beta\n x-axis ["a", "b"]\n bar [1, 2, 3]'),
    /3 values for 2 x-axis categories/,
  );
  assert.throws(() => checkXychart('xychart-beta\n x-axis 0 --> 1\n line [1]'), /at least 2 values/);
});

test('labels from data cannot break the block: quotes, backticks, %%, #, brackets, newlines', () => {
  const evil = 'a"b`c%%{init: {"theme":"dark"}}%%\n```\n#quot;[x]';
  const label = xyLabel(evil, 200);
  assert.doesNotMatch(label, /["`#\n[\]{}]|%%/);
  const block = xychartBlock({
    title: evil,
    x: { title: evil, categories: [evil, 'ok'] },
    y: { title: 'y' },
    series: [{ kind: 'bar', name: evil, values: [1, 2] }],
  });
  assert.equal(block.split('```').length, 3, 'one fence opens, one closes');
  assert.deepEqual(checkXychart(block.replace(/^```mermaid\n|\n```$/g, '')).xAxis.categories, [xyLabel(evil), 'ok']);
  assert.equal(xyLabel('   '), '(blank)');
  assert.equal(xyLabel('x'.repeat(50)).length, 40);
});

test('numbers never use exponents (Mermaid’s number token has none)', () => {
  assert.equal(xyNumber(1e-7), '0');
  assert.equal(xyNumber(0.00012345), '0.0001');
  assert.equal(xyNumber(1e21), '1000000000000000000000');
  assert.equal(xyNumber(-0.00001), '0');
  assert.equal(xyNumber(12.5), '12.5');
  assert.throws(() => xyNumber(Number.NaN), /not a finite number/);
});

test('a built chart parses back to the same numbers', () => {
  const src = xychartSource({
    title: 't',
    x: { title: 'x', range: [0, 100] },
    y: { title: 'y', range: [0, 1] },
    series: [{ kind: 'line', name: 'm', values: [0, 0.25, 1] }],
  });
  const c = checkXychart(src);
  assert.deepEqual(c.xAxis.range, [0, 100]);
  assert.deepEqual(c.plots[0].data, [0, 0.25, 1]);
});

test('the colour directive goes first and the grammar skips it (Mermaid strips %%{init}%% before parsing)', () => {
  const src = xychartSource({
    title: 't',
    x: { title: 'x', categories: ['a', 'b'] },
    y: { title: 'y' },
    series: [{ kind: 'bar', name: 'n', values: [1, 2] }],
  });
  assert.ok(src.startsWith(`${XY_DIRECTIVE}\nxychart-beta\n`));
  assert.deepEqual(checkXychart(src).plots[0].data, [1, 2]);
  assert.deepEqual(
    JSON.parse(
      XY_DIRECTIVE.slice(2, -2).replace(/^\{init: /, '{"init": '),
    ).init.themeVariables.xyChart.plotColorPalette.split(', ').length,
    4,
  );
});
