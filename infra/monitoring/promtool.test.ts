import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MONITORING_DIR, outdatedFiles } from './generate.ts';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { RULE_TEST_COMMAND, hasPromtool, promtool, testRulesAsUsersDo, unitTestFiles } from './promtool.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const PROM = join(MONITORING_DIR, 'prometheus');
const skip = hasPromtool() ? false : 'skipped: /usr/bin/promtool is missing (apt-get install prometheus)';

test('the committed generated files equal what generate.ts produces (no drift between code and files)', async () => {
  assert.deepEqual(await outdatedFiles(), [], 'run: node --import tsx infra/monitoring/generate.ts');
});

test('promtool check rules accepts the generated rules', { skip }, async () => {
  const r = await promtool(['check', 'rules', join(PROM, 'rules.yml')]);
  assert.ok(r.ok, r.output);
  assert.match(r.output, /SUCCESS: \d+ rules found/);
});

test('promtool check config accepts prometheus.yml (and the rule file it loads)', { skip }, async () => {
  const r = await promtool(['check', 'config', join(PROM, 'prometheus.yml')]);
  assert.ok(r.ok, r.output);
});

test('promtool check config accepts prometheus.compose.yml (docker-compose.yml network)', { skip }, async () => {
  const r = await promtool(['check', 'config', join(PROM, 'prometheus.compose.yml')]);
  assert.ok(r.ok, r.output);
});

const REPO_ROOT = join(MONITORING_DIR, '..', '..');

test(`\`${RULE_TEST_COMMAND}\` passes from the repository root on the committed files`, { skip }, async () => {
  const files = await unitTestFiles(join(PROM, 'tests'));
  assert.ok(files.length >= 3, 'unit test files exist');
  const r = await testRulesAsUsersDo(REPO_ROOT);
  assert.ok(r.ok, r.output);
  assert.equal((r.output.match(/SUCCESS/g) ?? []).length, files.length, r.output);
});

test('promtool compares annotations: a wrong expected annotation fails the same command', { skip }, async () => {
  const root = await tempDir('promtool-');
  const prom = join(root, 'infra', 'monitoring', 'prometheus');
  await cp(PROM, prom, { recursive: true });
  const file = join(prom, 'tests', 'model.yml');
  const text = await readFile(file, 'utf8');
  assert.match(text, /summary: Live roc_auc of flight-delay is 0\.550/);
  await writeFile(file, text.replace('is 0.550', 'is 0.551'));
  const r = await testRulesAsUsersDo(root);
  assert.ok(!r.ok, 'promtool must fail');
  assert.match(r.output, /0\.550/);
});

test('the unit tests cover every alert the rules define', async () => {
  const { ruleGroups } = await import('./rules.ts');
  const { readFile } = await import('node:fs/promises');
  const text = (await Promise.all((await unitTestFiles(join(PROM, 'tests'))).map((f) => readFile(f, 'utf8')))).join(
    '\n',
  );
  const alerts = ruleGroups()
    .flatMap((g) => g.rules)
    .flatMap((r) => ('alert' in r ? [r.alert] : []));
  const untested = alerts.filter((a) => !new RegExp(`alertname: ${a}\\b`).test(text));
  assert.deepEqual(untested, []);
});
