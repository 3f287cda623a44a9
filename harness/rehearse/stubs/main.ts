/**
 * Entry of every CLI stand-in: `main.ts <name> <args…>`. Prints what the tool would print,
 * appends the call (with its exit code) to REHEARSE_CALLS, exits with the tool's code; a call
 * REHEARSE_RECORD matches is only recorded.
 */
import { docker } from './docker.ts';
import { gcloud } from './gcloud.ts';
import { kubectl } from './kubectl.ts';
import { Exit, record } from './state.ts';
import { dvc, gh, npmCi, pip, terraform } from './tools.ts';

const [name, ...args] = process.argv.slice(2);
const self = process.env.REHEARSE_STUB_SELF ?? '';
const tools: Record<string, (a: string[]) => unknown> = {
  gcloud,
  docker,
  kubectl,
  terraform,
  gh,
  dvc,
  'npm-ci': npmCi,
  pip: (a) => pip(a, self),
};

let code = 0;
// REHEARSE_RECORD (an ERE over `<tool> <args>`): record these calls instead of running them.
const recordOnly = process.env.REHEARSE_RECORD;
if (recordOnly && name !== 'npm-ci' && new RegExp(`^(${recordOnly})`).test([name, ...args].join(' '))) {
  record(name, args, 0, true);
  process.stdout.write(`rehearsal: ${name} ${args.join(' ')} recorded, not run (REHEARSE_RECORD)\n`);
  process.exit(0);
}
try {
  const tool = tools[name];
  if (!tool) throw new Exit(127, '', `rehearsal stand-in: unknown tool ${name}\n`);
  if (name === 'kubectl' && args.includes('port-forward')) record(name, args, 0);
  await tool(args);
} catch (err) {
  if (err instanceof Exit) {
    process.stdout.write(err.stdout);
    process.stderr.write(err.stderr);
    code = err.code;
  } else {
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    code = 1;
  }
}
if (!(name === 'kubectl' && args.includes('port-forward')))
  record(name === 'npm-ci' ? 'npm' : name, name === 'npm-ci' ? ['ci', ...args.slice(1)] : args, code);
process.exitCode = code;
