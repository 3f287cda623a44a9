import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tickLabel } from './browser/ticks.ts';

test('histogram ticks: numeric bins by their lower edge in 3 significant digits, categories by 8 characters', () => {
  assert.equal(tickLabel('0.000210–0.113', true), '0.00021');
  assert.equal(tickLabel('30.0–140', true), '30');
  assert.equal(tickLabel('1090–1260', true), '1090');
  assert.equal(tickLabel('0.11345–0.161', true), '0.113');
  assert.equal(tickLabel('-12.5–0', true), '-12.5');
  assert.equal(tickLabel('ORD', false), 'ORD');
  assert.equal(tickLabel('Washington Dulles', false), 'Washingt');
  assert.equal(tickLabel('not a bin–x', true), 'not a bi', 'an unparsable edge falls back to the text');
});
