import { test } from 'node:test';
import assert from 'node:assert/strict';
import { details, escapeCell, formatCount, formatNumber, formatPercent, raw, table } from './markdown.ts';

test('tables escape pipes, HTML and control characters; raw cells pass through; empty cells show a dash', () => {
  assert.equal(
    table(
      ['name', 'value'],
      [
        ['a|b <script>', 1.5],
        [raw('**bold**'), null],
      ],
      ['left', 'right'],
    ),
    ['| name | value |', '| --- | ---: |', '| a\\|b &lt;script&gt; | 1.500 |', '| **bold** | — |'].join('\n'),
  );
  assert.equal(escapeCell('x\u0000y\nz\tw'), 'x\\u0000y z w');
});

test('details folds markdown with the blank lines GitHub needs', () => {
  assert.equal(
    details('More <info>', '| a |\n'),
    '<details><summary>More &lt;info&gt;</summary>\n\n| a |\n\n</details>',
  );
});

test('numbers: fixed formats, grouped thousands, signed, no negative zero', () => {
  assert.equal(formatNumber(0.123456), '0.1235');
  assert.equal(formatNumber(12.34567), '12.346');
  assert.equal(formatNumber(1234.56), '1234.6');
  assert.equal(formatNumber(123456.7), '123,457');
  assert.equal(formatNumber(22490), '22,490');
  assert.equal(formatNumber(0.05, { signed: true }), '+0.0500');
  assert.equal(formatNumber(-0.00001), '0.0000');
  assert.equal(formatNumber(Number.POSITIVE_INFINITY), '∞');
  assert.equal(formatCount(1234567.4), '1,234,567');
  assert.equal(formatCount(-1500), '-1,500');
  assert.equal(formatPercent(0.1234), '12.3%');
  assert.equal(formatPercent(Number.NaN), '—');
});
