/**
 * `kubectl apply` of one infra/k8s overlay, rendered with the image being released (render.ts):
 * the overlay's Namespace first, every placeholder filled, the workloads this release does not
 * target left on the image and replica count they run.
 */
import {
  liveWorkloads,
  namespaceProblems,
  parseManifests,
  render,
  type Manifest,
  type RenderOptions,
} from './render.ts';
import { CONTAINER, type DeployContext } from './context.ts';

export type ApplyResult = { ok: true; objects: number } | { ok: false; reason: string };

const fail = (r: { stderr: string; stdout: string }) => (r.stderr || r.stdout).trim();

/** Renders `dir` (kustomize directory, or one YAML file) with the context's settings; no cluster change. */
export async function renderDir(
  ctx: Pick<DeployContext, 'runner' | 'settings'>,
  dir: string,
  o: Omit<RenderOptions, 'settings'>,
): Promise<Manifest[]> {
  let text: string;
  if (/\.ya?ml$/.test(dir)) {
    const { readFile } = await import('node:fs/promises');
    text = await readFile(dir, 'utf8');
  } else {
    const r = await ctx.runner.kubectl(['kustomize', dir]);
    if (r.code !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${fail(r)}`);
    text = r.stdout;
  }
  return render(parseManifests(text, dir), { ...o, settings: ctx.settings ?? {} });
}

export async function applyOverlay(
  ctx: DeployContext,
  image: string,
  targets: string[],
  extra: Pick<RenderOptions, 'keepServiceTrack'> = {},
): Promise<ApplyResult> {
  if (!ctx.overlay) return { ok: true, objects: 0 };
  const live = await ctx.runner.kubectl(['-n', ctx.namespace, 'get', 'deployments', '-o', 'json']);
  if (live.code !== 0)
    return {
      ok: false,
      reason: `cannot read the running Deployments in ${ctx.namespace} (needed to keep their images): ${fail(live)}`,
    };
  let manifests: Manifest[];
  try {
    manifests = await renderDir(ctx, ctx.overlay, {
      images: { api: image },
      targets,
      live: liveWorkloads(live.stdout || '{"items":[]}', ctx.container ?? CONTAINER),
      ...extra,
    });
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const nsProblems = namespaceProblems(manifests);
  const elsewhere = manifests.filter((m) => m.metadata.namespace && m.metadata.namespace !== ctx.namespace);
  if (nsProblems.length || elsewhere.length) {
    return {
      ok: false,
      reason: `overlay ${ctx.overlay} does not fit namespace ${ctx.namespace}: ${[...nsProblems, ...elsewhere.map((m) => `${m.kind}/${m.metadata.name} is in ${m.metadata.namespace}`)].slice(0, 5).join('; ')}`,
    };
  }
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests });
  ctx.runner.log(`applying ${ctx.overlay}: ${manifests.length} objects, ${image} on ${targets.join(', ')}`);
  const applied = await ctx.runner.kubectl(['apply', '-f', '-'], list);
  if (applied.code !== 0) return { ok: false, reason: `kubectl apply of ${ctx.overlay} failed: ${fail(applied)}` };
  return { ok: true, objects: manifests.length };
}
