/**
 * The Kubernetes manifests name the model the API serves and the batch CronJobs score through one
 * ConfigMap key, MODEL_NAME. Like dvc.yaml's `artifacts:` entry it follows params.yaml's
 * register.model_name: `pipeline:gen` rewrites that one value (comments and layout kept) and
 * `--check` fails while it differs.
 */
import { join } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { readTextIfExists, writeFileAtomic } from '../../core/platform/atomic.ts';

export const MODEL_CONFIGMAP = 'infra/k8s/base/common/configmap.yaml';

/** The ConfigMap text with data.MODEL_NAME set to `modelName`; null when the repository has no such manifest. */
export async function manifestWithModelName(
  repoRoot: string,
  modelName: string,
): Promise<{ current: string; wanted: string } | null> {
  const path = join(repoRoot, MODEL_CONFIGMAP);
  const current = await readTextIfExists(path);
  if (current === null) return null;
  const doc = parseDocument(current);
  const data = doc.get('data');
  if (!isMap(data))
    throw new Error(`${MODEL_CONFIGMAP} has no data: map; it must hold MODEL_NAME (the model the API serves)`);
  data.set('MODEL_NAME', modelName);
  return { current, wanted: doc.toString() };
}

/** Bring the ConfigMap's MODEL_NAME in line (or, with `check`, only say it differs): what to tell the user, or null when nothing differs. */
export async function syncManifestModelName(
  repoRoot: string,
  modelName: string,
  check: boolean,
): Promise<{ stale: string } | { wrote: string } | null> {
  const m = await manifestWithModelName(repoRoot, modelName);
  if (!m || m.current === m.wanted) return null;
  if (check)
    return {
      stale: `${MODEL_CONFIGMAP}: MODEL_NAME differs from params.yaml's register.model_name (${modelName}); run \`npm run pipeline:gen\` and commit ${MODEL_CONFIGMAP}`,
    };
  await writeFileAtomic(join(repoRoot, MODEL_CONFIGMAP), m.wanted);
  return { wrote: `wrote ${MODEL_CONFIGMAP} (MODEL_NAME: ${modelName})\n` };
}
