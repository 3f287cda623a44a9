/**
 * Whether `npm start` must run the register stage although it is up to date (training/cli.ts).
 */
import { join } from 'node:path';
import { openRegistry } from '../core/registry/index.ts';
import { readMetrics } from '../core/schemas/metrics-files.ts';
import { loadParams } from '../core/schemas/params.ts';
import { registerStage } from './contracts/register.ts';
import { promotionPolicy } from './stages/register.ts';

/**
 * The register stage again, although up to date, when its inputs are the same but its effect is
 * not there:
 * - its last run registered a version as a candidate only because promotion was not allowed then
 *   (`npm run pipeline:start`) and this run may promote (`npm start`): the decision differs.
 *   Without this, `npm start` after `pipeline:start` skips register and nothing is ever served.
 * - the local registry does not hold the version its last run recorded: `registry/` is not in git,
 *   so a clone whose outputs came back with `data:pull` (or `dvc pull`) has every stage up to date
 *   and an empty registry, and would serve nothing while saying the version was promoted.
 */
export async function registerRerun(
  repoRoot: string,
  env: Record<string, string | undefined>,
): Promise<Record<string, string>> {
  const last = await readMetrics('register', { repo: repoRoot }).catch(() => null);
  if (!last) return {};
  const policy = promotionPolicy(env);
  if (last.decision === 'candidate' && policy.allowed) {
    // A person who has moved a stage since (promoted it by hand, rolled back, demoted) decided:
    // running register again would assign the candidate over that decision.
    if (await stagesMovedSince(repoRoot, env, last.model_name, last.version)) return {};
    return {
      [registerStage.name]: `v${last.version} was registered as a candidate only; this run may assign its stage (${policy.why})`,
    };
  }
  const missing = await missingFromRegistry(repoRoot, env, last.model_name, last.version);
  return missing ? { [registerStage.name]: missing } : {};
}

/**
 * The local registry the last run registered `model` in, with its URL; null when params.yaml names
 * another model now (a rename is a change of params: register reruns for that already) or the
 * registry is a bucket (gs://: shared by every clone, not read here without network).
 */
async function localRegistry(repoRoot: string, env: Record<string, string | undefined>, model: string) {
  const params = await loadParams(join(repoRoot, 'params.yaml')).catch(() => null);
  if (!params?.register || params.register.model_name !== model) return null;
  const url = env.REGISTRY_URL || params.register.registry;
  return url.startsWith('gs://') ? null : { url, registry: await openRegistry(url, { baseDir: repoRoot }) };
}

/** Why the local registry lacks `model` v`version`, or null when it holds it or cannot tell. */
async function missingFromRegistry(
  repoRoot: string,
  env: Record<string, string | undefined>,
  model: string,
  version: number,
): Promise<string | null> {
  try {
    const local = await localRegistry(repoRoot, env, model);
    if (!local) return null;
    const { url, registry } = local;
    if (!(await registry.listModels()).includes(model))
      return `the registry (${url}) holds no ${model}, which its last run registered as v${version} (a clone whose outputs came from data:pull): register it here`;
    const versions = await registry.listVersions(model);
    if (!versions.some((v) => v.version === version))
      return `the registry (${url}) holds no ${model} v${version}, which its last run registered: register it here`;
  } catch {
    // An unreadable registry is the register stage's to report when it runs; not a reason to run it.
  }
  return null;
}

/**
 * Whether any stage of `model` moved (promote, rollback, demote) after `version` was registered,
 * in the local registry; false when it cannot tell (a bucket registry, none here yet).
 */
async function stagesMovedSince(
  repoRoot: string,
  env: Record<string, string | undefined>,
  model: string,
  version: number,
): Promise<boolean> {
  try {
    const registry = (await localRegistry(repoRoot, env, model))?.registry;
    if (!registry || !(await registry.listModels()).includes(model)) return false;
    const history = await registry.history(model);
    const registered = history.findIndex((e) => e.type === 'register' && e.version === version);
    return (
      registered >= 0 &&
      history.slice(registered + 1).some((e) => e.type === 'promote' || e.type === 'rollback' || e.type === 'demote')
    );
  } catch {
    return false;
  }
}
