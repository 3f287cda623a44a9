/**
 * Whether `npm start` must run the register stage although it is up to date (training/cli.ts).
 */
import { readMetrics } from '../core/schemas/metrics-files.ts';
import { registerStage } from './contracts/register.ts';
import { promotionPolicy } from './stages/register.ts';

/**
 * The register stage again, although up to date, when its last run registered a version as a
 * candidate only because promotion was not allowed then (`npm run pipeline:start`) and this run
 * may promote (`npm start`): the stage's inputs are the same, the decision is not. Without this,
 * `npm start` after `pipeline:start` skips register and nothing is ever served.
 */
export async function registerRerun(
  repoRoot: string,
  env: Record<string, string | undefined>,
): Promise<Record<string, string>> {
  const last = await readMetrics('register', { repo: repoRoot }).catch(() => null);
  if (last?.decision !== 'candidate') return {};
  const policy = promotionPolicy(env);
  if (!policy.allowed) return {};
  return {
    [registerStage.name]: `v${last.version} was registered as a candidate only; this run may assign its stage (${policy.why})`,
  };
}
