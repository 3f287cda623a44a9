/** `GET /v1/models/<name>`: what is served, whether it is ready, and its inputs with defaults. */
import type { TargetSpec } from '../../core/model/targets.ts';
import type { ModelManager } from '../model-manager.ts';

export function modelInfo(manager: ModelManager, name: string) {
  const m = manager.current;
  if (!m)
    return {
      name,
      version: null,
      stage: null,
      ready: false,
      reason: manager.lastError ?? 'loading',
      backend: manager.backend,
    };
  const meta = m.bundle.meta;
  const defaults = m.bundle.golden[0]?.record ?? {};
  const vocab = new Map(
    m.bundle.spec.features
      .filter((f) => f.kind === 'categorical')
      .map((f) => [f.name, (f as { vocabulary: string[] }).vocabulary.slice(1)]),
  );
  return {
    name,
    version: m.version,
    stage: m.stage,
    ready: true,
    loaded_at: m.loadedAt.toISOString(),
    backend: manager.backend,
    task: meta.task,
    ...(meta.threshold !== undefined ? { threshold: meta.threshold } : {}),
    ...(m.bundle.classes ? { classes: m.bundle.classes } : {}),
    ...(meta.task === 'classification' && !m.bundle.classes ? { label_text: labelText(m.bundle.spec.target) } : {}),
    candidate: meta.candidate,
    model_type: meta.model_type,
    // A blend answers with the mean of these: which models, of which kind, with what weight.
    ...(meta.blend
      ? {
          members: meta.blend.members.map((b) => ({
            candidate: b.candidate,
            model_type: b.model_type,
            weight: b.weight,
          })),
        }
      : {}),
    created_at: meta.created_at,
    git_commit: meta.git_commit,
    data_md5: meta.data_md5,
    metrics: meta.metrics,
    inputs: Object.entries(meta.input_schema).map(([field, rule]) => ({
      name: field,
      ...rule,
      default: defaults[field] ?? null,
      ...(vocab.has(field) ? { categories: vocab.get(field) } : {}),
    })),
  };
}

/** Words for the two classes, from the target definition (e.g. "likely delay > 15", "likely rain"). */
function labelText(target: TargetSpec): Record<string, string> {
  if (target.positive_class !== undefined)
    return { '0': `likely not ${target.positive_class}`, '1': `likely ${target.positive_class}` };
  const above = target.positive_above ?? 0;
  return { '0': `likely ${target.column} ≤ ${above}`, '1': `likely ${target.column} > ${above}` };
}
