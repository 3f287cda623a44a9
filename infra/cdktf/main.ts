// The CDKTF app: `npm run infra:synth`, `npx cdktf synth` (cdktf.json) or `node --import tsx cdktf/main.ts`
// from infra/ writes cdktf.out/stacks/gitops-ml/cdk.tf.json, plain Terraform JSON for terraform or tofu.
// Its settings come from infra/config.yaml alone (locally and in CI alike).
import { resolve } from 'node:path';
import { App } from 'cdktf';
import { defineCli } from '../../core/platform/cli.ts';
import { loadConfig, PLACEHOLDER_PROJECT, PLACEHOLDER_REPOSITORY } from './config.ts';
import { GitopsMlStack, STACK_NAME } from './stack.ts';

const USAGE = `usage: npm run infra:synth
       cd infra && node --import tsx cdktf/main.ts   (or: npx cdktf synth)
  synthesize the CDKTF stack into cdktf.out/ under the current directory (infra/ for the npm script;
  $CDKTF_OUTDIR when cdktf sets it): cdktf.out/stacks/${STACK_NAME}/cdk.tf.json, plain Terraform JSON
  for terraform or tofu, and say where it went
config: infra/config.yaml (the only source; an environment variable that disagrees with it is refused)
exit: 0 written, 1 failed, 2 usage error`;

await defineCli({ name: 'infra:synth', usage: USAGE }, (_args, io) => {
  const config = loadConfig();
  for (const [value, placeholder, field] of [
    [config.projectId, PLACEHOLDER_PROJECT, 'projectId'],
    [config.githubRepository, PLACEHOLDER_REPOSITORY, 'githubRepository'],
  ] as const) {
    if (value === placeholder)
      io.stderr(`warning: ${field} is the placeholder "${placeholder}"; edit infra/config.yaml and commit it\n`);
  }
  // Without the numeric id the identity provider trusts the repository's name alone: a repository
  // deleted and re-created under that name (by anyone who gets it) would be trusted too.
  if (!config.githubRepositoryId)
    io.stderr(
      `warning: githubRepositoryId is empty, so the workload identity provider trusts the name ${config.githubRepository} alone; set it in infra/config.yaml (the repository's numeric id: gh api repos/${config.githubRepository} --jq .id)\n`,
    );
  const app = new App();
  new GitopsMlStack(app, STACK_NAME, config);
  app.synth();
  const outdir = resolve(app.outdir);
  io.stdout(`wrote ${resolve(outdir, 'stacks', STACK_NAME, 'cdk.tf.json')} (output directory: ${outdir})\n`);
}).main();
