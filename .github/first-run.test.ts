/**
 * "First real run" (docs/deploy.md, linked from the README's "Deploy") against the workflows and
 * the stack: every repository variable and secret a workflow reads is listed there, and every
 * variable listed as required is an output of the CDKTF stack (named after it, lower-cased), so
 * `terraform output -json` fills them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { defaultConfig } from '../infra/cdktf/config.ts';
import { GitopsMlStack } from '../infra/cdktf/stack.ts';
import { referencedSettings } from '../harness/rehearse/workflow.ts';

const root = join(import.meta.dirname, '..');
const GUIDE = 'docs/deploy.md';
const guide = readFileSync(join(root, GUIDE), 'utf8');
const start = guide.indexOf('## First real run');
const end = guide.indexOf('\n## ', start + 5);
const section = start < 0 ? '' : guide.slice(start, end < 0 ? undefined : end);

function settings(): { vars: Set<string>; secrets: Set<string> } {
  const vars = new Set<string>();
  const secrets = new Set<string>();
  for (const f of readdirSync(join(root, '.github', 'workflows')).filter((x) => x.endsWith('.yml'))) {
    const s = referencedSettings(readFileSync(join(root, '.github', 'workflows', f), 'utf8'));
    s.vars.forEach((v) => vars.add(v));
    s.secrets.forEach((v) => secrets.add(v));
  }
  return { vars, secrets };
}

test('docs/deploy.md has a First real run section in steps', () => {
  assert.ok(section.length > 500, `${GUIDE} needs a "## First real run" section`);
  for (const step of ['state bucket', 'services enable', 'terraform apply', 'Repository variables', 'Environments'])
    assert.ok(section.includes(step), `First real run misses: ${step}`);
  assert.ok(
    section.indexOf('state bucket') < section.indexOf('terraform apply') &&
      section.indexOf('terraform apply') < section.indexOf('Repository variables'),
    'bucket → apply → variables, in that order',
  );
});

test('every vars.* and secrets.* a workflow reads is listed in First real run', () => {
  const { vars, secrets } = settings();
  assert.ok(vars.size >= 10, `only ${vars.size} variables found`);
  const missing = [...vars, ...secrets].filter((name) => !section.includes(`\`${name}\``));
  assert.deepEqual(missing, [], `add these to ${GUIDE} "First real run"`);
});

test('every required variable of First real run is an output of the stack; optional ones are not needed from it', () => {
  const required = section
    .slice(section.indexOf('Repository variables'), section.indexOf('Optional'))
    .match(/`[A-Z][A-Z0-9_]+`/g)!
    .map((v) => v.slice(1, -1));
  assert.ok(required.length >= 10, required.join(' '));
  const app = Testing.app();
  const stack = new GitopsMlStack(app, 'gitops-ml', {
    ...defaultConfig('acme-ml', 'europe-west1'),
    githubRepository: 'acme/gitops-ml',
  });
  const outputs = Object.keys(JSON.parse(Testing.synth(stack)).output ?? {});
  const missing = required.filter((v) => !outputs.includes(v.toLowerCase()));
  assert.deepEqual(missing, [], `stack outputs: ${outputs.join(', ')}`);
  const { vars } = settings();
  for (const v of required) assert.ok(vars.has(v), `${v} is listed as required but no workflow reads it`);
});
