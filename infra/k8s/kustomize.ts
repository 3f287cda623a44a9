/** Renders a kustomize directory of infra/k8s with the real `kubectl kustomize` (offline), for tests. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const K8S_DIR = dirname(fileURLToPath(import.meta.url));
export const OVERLAYS = ['staging', 'production', 'blue-green', 'canary', 'kube-prometheus'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
} & Obj;

const kubectl = process.env.KUBECTL ?? (existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : 'kubectl');
const probe = spawnSync(kubectl, ['version', '--client'], { encoding: 'utf8' });
/** Why the manifests cannot be rendered here, or null. */
export const kubectlMissing = probe.error
  ? `kubectl not available (${probe.error.message})`
  : probe.status !== 0
    ? `kubectl version --client failed: ${probe.stderr}`
    : null;

/** Every document of a YAML stream, empty documents left out; fails the test on a YAML error. */
export function parseManifests(text: string, where: string): Manifest[] {
  const out: Manifest[] = [];
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length) assert.fail(`${where}: YAML error ${d.errors[0].message}`);
    const v = d.toJS() as Manifest | null;
    if (v) out.push(v);
  }
  return out;
}

function render(dir: string): Manifest[] {
  const r = spawnSync(kubectl, ['kustomize', join(K8S_DIR, dir)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) assert.fail(`kubectl kustomize ${dir} failed (exit ${r.status}):\n${r.stderr}`);
  return parseManifests(r.stdout, dir);
}

const cache = new Map<string, Manifest[]>();
/** The rendered objects of a directory under infra/k8s (rendered once per process). */
export const rendered = (dir: string): Manifest[] => {
  if (!cache.has(dir)) cache.set(dir, render(dir));
  return cache.get(dir)!;
};
