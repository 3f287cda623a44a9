// The CDKTF app: `npx cdktf synth` (cdktf.json) or `node --import tsx cdktf/main.ts` from infra/
// writes cdktf.out/stacks/gitops-ml/cdk.tf.json, plain Terraform JSON for terraform or tofu.
import { App } from 'cdktf';
import { configFromEnv, PLACEHOLDER_PROJECT, PLACEHOLDER_REPOSITORY } from './config.ts';
import { GitopsMlStack, STACK_NAME } from './stack.ts';

const config = configFromEnv();
for (const [value, placeholder, fix] of [
  [config.projectId, PLACEHOLDER_PROJECT, 'GCP_PROJECT'],
  [config.githubRepository, PLACEHOLDER_REPOSITORY, 'GITHUB_REPOSITORY'],
] as const) {
  if (value === placeholder)
    console.warn(`warning: ${fix} is the placeholder "${placeholder}"; set it or edit infra/cdktf/config.ts`);
}
const app = new App();
new GitopsMlStack(app, STACK_NAME, config);
app.synth();
