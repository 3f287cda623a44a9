/**
 * What the manifests in infra/k8s leave to deploy time, filled in one place:
 * - image names `api` and `trainer` → `<region>-docker.pkg.dev/<project>/<repo>/<name>@sha256:…`,
 *   the one image name the CDKTF stack outputs (`api_image`, `trainer_image`) and CI pushes;
 * - `${GCP_PROJECT}` and `${GCS_BUCKET}` in any string (Workload Identity annotations, REGISTRY_URL,
 *   batch output paths).
 * Workloads that the current release does not target keep the image (and replica count) they run,
 * so re-applying an overlay never reverts pods to another image nor undoes the autoscaler.
 */
import { parseAllDocuments } from 'yaml';

export interface Container {
  name: string;
  image: string;
  [k: string]: unknown;
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  [k: string]: unknown;
}
/** The parts of `spec` this module reads or writes (Deployment, Job, CronJob, HorizontalPodAutoscaler, Service). */
export interface ManifestSpec {
  replicas?: number;
  template?: { spec?: PodSpec; [k: string]: unknown };
  jobTemplate?: { spec?: { template?: { spec?: PodSpec; [k: string]: unknown }; [k: string]: unknown } };
  scaleTargetRef?: { name?: string; [k: string]: unknown };
  selector?: { track?: string; [k: string]: unknown };
  [k: string]: unknown;
}
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; generateName?: string; namespace?: string; [k: string]: unknown };
  spec?: ManifestSpec;
  [k: string]: unknown;
};

/** Kustomize image names used in infra/k8s/base/app/deployment.yaml and infra/k8s/jobs/*.yaml. */
export const IMAGE_PLACEHOLDERS = ['api', 'trainer'] as const;
export type ImageKind = (typeof IMAGE_PLACEHOLDERS)[number];
/** `${NAME}` placeholders allowed in infra/k8s, with where their value comes from. */
export const SETTINGS = {
  GCP_PROJECT: 'vars.GCP_PROJECT / stack output gcp_project (--project)',
  GCS_BUCKET: 'vars.GCS_BUCKET / stack output gcs_bucket (--bucket)',
} as const;
export type SettingName = keyof typeof SETTINGS;

export interface ImageLocation {
  region: string;
  project: string;
  repository: string;
}

/** The Artifact Registry path of one image: what the stack outputs, CI pushes and the pods run. */
export function imageName(kind: ImageKind, at: ImageLocation): string {
  return `${at.region}-docker.pkg.dev/${at.project}/${at.repository}/${kind}`;
}

export interface LiveWorkload {
  image?: string;
  replicas?: number;
}

export interface RenderOptions {
  settings: Partial<Record<SettingName, string>>;
  /** Image for each placeholder, used by the target workloads (and by any workload not running yet). */
  images: Partial<Record<ImageKind, string>>;
  /** Workloads that get `images` even when they already run something else. */
  targets?: string[];
  /** What runs now, by Deployment name (from `kubectl get deployments -o json`). */
  live?: Record<string, LiveWorkload>;
  /** Keep the Service's current `track` selector (blue-green: the switch happens by patch, not by apply). */
  keepServiceTrack?: { service: string; track: string };
}

export function parseManifests(text: string, where: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`${where}: YAML error ${doc.errors[0].message}`);
    const v = doc.toJS() as Manifest | null;
    if (v) out.push(v);
  }
  return out;
}

const label = (m: Manifest) => `${m.kind}/${m.metadata.name ?? `${m.metadata.generateName ?? ''}*`}`;

/** Pod specs of the workload kinds infra/k8s uses. */
export function podSpecs(m: Manifest): PodSpec[] {
  const present = (s: PodSpec | undefined): s is PodSpec => Boolean(s);
  if (m.kind === 'Deployment' || m.kind === 'Job') return [m.spec?.template?.spec].filter(present);
  if (m.kind === 'CronJob') return [m.spec?.jobTemplate?.spec?.template?.spec].filter(present);
  return [];
}

function substituteStrings(value: unknown, settings: RenderOptions['settings'], missing: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{(GCP_PROJECT|GCS_BUCKET)\}/g, (whole, name: SettingName) => {
      const v = settings[name];
      if (!v) {
        missing.add(name);
        return whole;
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => substituteStrings(v, settings, missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteStrings(v, settings, missing)]));
  }
  return value;
}

/** Fills the placeholders; throws one error naming every value that is missing and where. */
export function render(manifests: Manifest[], o: RenderOptions): Manifest[] {
  const problems: string[] = [];
  const targets = new Set(o.targets ?? []);
  const scaled = new Set(
    manifests.filter((m) => m.kind === 'HorizontalPodAutoscaler').map((h) => h.spec?.scaleTargetRef?.name),
  );
  const out = manifests.map((original) => {
    const missing = new Set<string>();
    const m = substituteStrings(original, o.settings, missing) as Manifest;
    for (const name of missing) problems.push(`${label(m)} uses \${${name}}: pass ${SETTINGS[name as SettingName]}`);
    const live = m.kind === 'Deployment' ? o.live?.[m.metadata.name ?? ''] : undefined;
    for (const spec of podSpecs(m)) {
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        if (!(IMAGE_PLACEHOLDERS as readonly string[]).includes(c.image)) continue;
        const kind = c.image as ImageKind;
        const keep = !targets.has(m.metadata.name ?? '') ? live?.image : undefined;
        const image = keep ?? o.images[kind];
        if (!image)
          problems.push(`${label(m)} container ${c.name} needs image \`${kind}\`: pass --image ${kind}=<ref@sha256:…>`);
        else c.image = image;
      }
    }
    // The autoscaler owns the replica count of a running Deployment; applying the manifest's number
    // would undo it. A track scaled to 0 by hand gets the manifest's count back (an HPA never scales from 0).
    if (live?.replicas && scaled.has(m.metadata.name)) m.spec!.replicas = live.replicas;
    const keepTrack = o.keepServiceTrack;
    if (keepTrack && m.kind === 'Service' && m.metadata.name === keepTrack.service && m.spec?.selector?.track)
      m.spec.selector.track = keepTrack.track;
    return m;
  });
  if (problems.length) throw new Error(`cannot render the manifests:\n  ${problems.join('\n  ')}`);
  return out;
}

/** Deployments by name → the image of `container` and the replica count, from `kubectl get deployments -o json`. */
export function liveWorkloads(json: string, container: string): Record<string, LiveWorkload> {
  const list = JSON.parse(json) as { items?: Manifest[] };
  const out: Record<string, LiveWorkload> = {};
  for (const d of list.items ?? []) {
    const c = (d.spec?.template?.spec?.containers ?? []).find((x) => x.name === container);
    out[d.metadata.name ?? ''] = { image: c?.image, replicas: d.spec?.replicas };
  }
  return out;
}

/** The namespaces a render puts objects in, and those it creates; a namespaced object outside them fails its apply. */
export function namespaceProblems(
  manifests: Manifest[],
  clusterScoped = new Set([
    'Namespace',
    'ClusterRole',
    'ClusterRoleBinding',
    'CustomResourceDefinition',
    'ClusterRules',
  ]),
): string[] {
  const created = new Set(manifests.filter((m) => m.kind === 'Namespace').map((m) => m.metadata.name));
  const problems: string[] = [];
  for (const m of manifests) {
    if (clusterScoped.has(m.kind)) continue;
    const ns = m.metadata.namespace;
    if (!ns) problems.push(`${label(m)} has no namespace`);
    else if (!created.has(ns)) problems.push(`${label(m)} is in namespace ${ns}, which this render does not create`);
  }
  return problems;
}
