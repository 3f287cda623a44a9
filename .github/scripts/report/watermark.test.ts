import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANY_CML_WATERMARK, cmlWatermark, hasCmlWatermark, watermarkLabel, watermarkTitle } from './watermark.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';

test('the watermark is byte for byte what cml writes (src/watermark.js toString)', () => {
  assert.equal(cmlWatermark('', SHA), `![](https://cml.dev/watermark.png#${SHA} "CML watermark")`);
  assert.equal(
    cmlWatermark('train report', SHA),
    `![](https://cml.dev/watermark.png#${SHA} "CML watermark train report")`,
  );
  // cml escapes what GitHub escapes on the way back: _ * [ <
  assert.equal(watermarkTitle('my_label *x* [y] <z>'), 'CML watermark my\\_label \\*x\\* \\[y] \\<z>');
  assert.equal(cmlWatermark('', 'not hex'), '![](https://cml.dev/watermark.png#0 "CML watermark")');
});

test('found like cml’s isIn: any hex after #, exactly the same title', () => {
  const body = `report\n\n![](https://cml.dev/watermark.png#${SHA.toUpperCase()} "CML watermark")`;
  assert.ok(hasCmlWatermark(body, ''));
  assert.ok(!hasCmlWatermark(body, 'other'), 'a different --watermark-title is a different comment');
  assert.ok(!hasCmlWatermark('![](https://cml.dev/watermark.png "CML watermark")', ''), 'cml requires the #hash');
  assert.ok(hasCmlWatermark(cmlWatermark('a_b', SHA), 'a_b'));
  assert.equal(`x\n\n${cmlWatermark('l', SHA)}\n`.replace(ANY_CML_WATERMARK, ''), 'x\n');
});

test('label from CML_COMMENT_WATERMARK_TITLE, first {workflow} and {run} replaced as cml does', () => {
  assert.equal(watermarkLabel({}), '');
  assert.equal(
    watermarkLabel({
      CML_COMMENT_WATERMARK_TITLE: '{workflow} #{run} {run}',
      GITHUB_WORKFLOW: 'Train',
      GITHUB_RUN_ID: '7',
    }),
    'Train #7 {run}',
  );
});
