// The CDKTF app: `npx cdktf synth` (cdktf.json) or `node --import tsx cdktf/main.ts` from infra/
// writes cdktf.out/stacks/gitops-ml/cdk.tf.json, plain Terraform JSON for terraform or tofu.
// Its settings come from infra/config.yaml alone (locally and in CI alike).
import { App } from 'cdktf';
import { loadConfig, PLACEHOLDER_PROJECT, PLACEHOLDER_REPOSITORY, type StackConfig } from './config.ts';
import { GitopsMlStack, STACK_NAME } from './stack.ts';

let config: StackConfig;
try {
  config = loadConfig();
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
}
for (const [value, placeholder, field] of [
  [config.projectId, PLACEHOLDER_PROJECT, 'projectId'],
  [config.githubRepository, PLACEHOLDER_REPOSITORY, 'githubRepository'],
] as const) {
  if (value === placeholder)
    console.warn(`warning: ${field} is the placeholder "${placeholder}"; edit infra/config.yaml and commit it`);
}
const app = new App();
new GitopsMlStack(app, STACK_NAME, config);
app.synth();
