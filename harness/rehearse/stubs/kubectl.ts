/**
 * kubectl against a stand-in cluster (REHEARSE_CLOUD/cluster.json) that keeps Namespaces,
 * Deployments (image, replicas, rollout history) and Services (selector). Like the real one it
 * needs a kubeconfig (KUBECONFIG) — without one: "The connection to the server localhost:8080 was
 * refused". Objects in a namespace that does not exist are refused (NotFound); a rollout of an
 * image the stand-in registry never received does not complete (ImagePullBackOff);
 * `port-forward` forwards to the locally running API. `kustomize` is the real kubectl's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Json } from '../expr.ts';
import { isPushed } from './docker.ts';
import { fail, ok, readState, writeState } from './state.ts';
import { realBinary } from './real.ts';

export interface Deployment {
  image: string;
  replicas: number;
  history: string[];
  ready: string[];
  container: string;
}
export interface Cluster {
  namespaces: string[];
  deployments: Record<string, Deployment>;
  services: Record<string, { selector: Record<string, string> }>;
  apiPort?: number;
  objects: string[];
}

const EMPTY: Cluster = { namespaces: ['default', 'kube-system'], deployments: {}, services: {}, objects: [] };

function kubeconfigOk(explicit?: string): void {
  const path = explicit ?? process.env.KUBECONFIG;
  if (!path || !existsSync(path)) {
    throw fail(
      `E1129 memcache.go:265] couldn't get current server API group list: Get "http://localhost:8080/api?timeout=32s": dial tcp 127.0.0.1:8080: connect: connection refused\nThe connection to the server localhost:8080 was refused - did you specify the right host or port?${path ? ` (KUBECONFIG ${path} does not exist)` : ' (no KUBECONFIG)'}`,
    );
  }
}

/** Flags every verb shares, and the words left. */
function split(args: string[]): { ns?: string; kubeconfig?: string; words: string[]; flags: Record<string, string> } {
  const words: string[] = [];
  const flags: Record<string, string> = {};
  let ns: string | undefined;
  let kubeconfig: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-n' || a === '--namespace') ns = args[++i];
    else if (a.startsWith('--namespace=')) ns = a.slice(12);
    else if (a === '--kubeconfig') kubeconfig = args[++i];
    else if (a.startsWith('--kubeconfig=')) kubeconfig = a.slice(13);
    else if (a.startsWith('--') && a.includes('=')) flags[a.slice(2, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
    else if (
      [
        '-o',
        '-p',
        '-f',
        '-k',
        '--type',
        '--output',
        '--patch',
        '--filename',
        '--kustomize',
        '--replicas',
        '--timeout',
        '-l',
        '--selector',
        '--context',
      ].includes(a)
    )
      flags[a.replace(/^-+/, '')] = args[++i];
    else if (a.startsWith('-')) flags[a.replace(/^-+/, '')] = 'true';
    else words.push(a);
  }
  return { ns, kubeconfig, words, flags };
}

const target = (words: string[]): { kind: string; name: string } => {
  const [a, b] = words;
  if (a?.includes('/')) {
    const [kind, name] = a.split('/');
    return { kind, name };
  }
  return { kind: a ?? '', name: b ?? '' };
};

function isReady(d: Deployment): boolean {
  return d.ready.includes(d.image) || isPushed(d.image);
}

/** The parts of a Kubernetes manifest the stand-in reads. */
interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: {
    replicas?: number;
    selector?: Record<string, string>;
    template?: { spec?: { containers?: { name: string; image?: string }[] } };
  };
  items?: Manifest[];
}

function render(flags: Record<string, string>): Manifest[] {
  let text: string;
  if (flags.k || flags.kustomize)
    text = execFileSync(realBinary('kubectl'), ['kustomize', flags.k ?? flags.kustomize], { encoding: 'utf8' });
  else if (flags.f === '-' || flags.filename === '-') text = readFileSync(0, 'utf8');
  else text = readFileSync(resolve(flags.f ?? flags.filename), 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter(Boolean)
    .flatMap((o: Manifest) => (o.kind === 'List' ? (o.items ?? []) : [o]));
}

export function apply(cluster: Cluster, objects: Manifest[], defaultNs: string): string[] {
  const lines: string[] = [];
  // Namespaces first, as kubectl apply orders them.
  for (const o of objects.filter((x) => x.kind === 'Namespace')) {
    if (!cluster.namespaces.includes(o.metadata.name)) cluster.namespaces.push(o.metadata.name);
    lines.push(`namespace/${o.metadata.name} configured`);
  }
  for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
    const clusterScoped = [
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'PriorityClass',
      'StorageClass',
    ].includes(o.kind);
    const ns = o.metadata?.namespace ?? defaultNs;
    if (!clusterScoped && !cluster.namespaces.includes(ns))
      throw fail(
        `Error from server (NotFound): error when creating "STDIN": namespaces "${ns}" not found (${o.kind}/${o.metadata?.name})`,
      );
    const key = `${ns}/${o.metadata.name}`;
    if (o.kind === 'Deployment') {
      const containers = o.spec?.template?.spec?.containers ?? [];
      const c = containers.find((x: { name: string }) => x.name === 'api') ?? containers[0];
      const prev = cluster.deployments[key];
      const image = String(c?.image ?? '');
      cluster.deployments[key] = {
        image,
        replicas: o.spec?.replicas ?? 1,
        history: prev ? [...prev.history, prev.image] : [],
        ready: prev?.ready ?? [],
        container: c?.name ?? 'api',
      };
    }
    if (o.kind === 'Service') cluster.services[key] = { selector: o.spec?.selector ?? {} };
    if (!cluster.objects.includes(`${o.kind}/${key}`)) cluster.objects.push(`${o.kind}/${key}`);
    lines.push(`${o.kind.toLowerCase()}/${o.metadata.name} configured`);
  }
  return lines;
}

function jsonpath(obj: unknown, expr: string): string {
  const path = expr
    .replace(/^jsonpath=/, '')
    .replace(/^\{|\}$/g, '')
    .replace(/^\./, '');
  const at = (o: Json | undefined, key: string | number): Json | undefined =>
    (o as Record<string, Json> | null | undefined)?.[key];
  // `obj` is plain data (strings, numbers, arrays, objects), as kubectl's JSON output is.
  let v = obj as Json | undefined;
  for (const part of path.split('.').filter(Boolean)) {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(part);
    v = at(v, m?.[1] ?? part);
    if (m?.[2] !== undefined) v = at(v, Number(m[2]));
  }
  return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export async function kubectl(args: string[]): Promise<never> {
  const { ns: nsFlag, kubeconfig, words, flags } = split(args);
  const [verb, ...rest] = words;
  if (verb === 'kustomize') throw ok(execFileSync(realBinary('kubectl'), args, { encoding: 'utf8' }));
  if (verb === 'version' && flags.client) throw ok('Client Version: v1.31.0 (rehearsal)');
  kubeconfigOk(kubeconfig);
  const ns = nsFlag ?? 'default';
  const cluster = readState<Cluster>('cluster.json', EMPTY);
  const save = () => writeState('cluster.json', cluster);
  const deployment = (name: string) => {
    const d = cluster.deployments[`${ns}/${name}`];
    if (!cluster.namespaces.includes(ns)) throw fail(`Error from server (NotFound): namespaces "${ns}" not found`);
    if (!d) throw fail(`Error from server (NotFound): deployments.apps "${name}" not found`);
    return d;
  };
  switch (verb) {
    case 'apply': {
      const lines = apply(cluster, render(flags), ns);
      save();
      throw ok(lines.join('\n'));
    }
    case 'set': {
      if (rest[0] !== 'image') break;
      const t = target(rest.slice(1));
      const d = deployment(t.name);
      const [container, image] = (rest.find((w) => w.includes('=')) ?? '').split('=');
      if (container !== d.container) throw fail(`error: unable to find container named "${container}"`);
      if (image !== d.image) {
        d.history.push(d.image);
        d.image = image;
      }
      save();
      throw ok(`deployment.apps/${t.name} image updated`);
    }
    case 'rollout': {
      const [sub, ...more] = rest;
      const t = target(more);
      const d = deployment(t.name);
      if (sub === 'status') {
        if (d.replicas === 0 || isReady(d)) {
          if (!d.ready.includes(d.image)) d.ready.push(d.image);
          save();
          throw ok(`deployment "${t.name}" successfully rolled out`);
        }
        throw fail(
          `Waiting for deployment "${t.name}" rollout to finish: 0 of ${d.replicas} updated replicas are available...\nerror: deployment "${t.name}" exceeded its progress deadline (pods: ImagePullBackOff: ${d.image} is not in the registry)`,
        );
      }
      if (sub === 'undo') {
        const prev = d.history.pop();
        if (!prev) throw fail(`error: no rollout history found for deployment "${t.name}"`);
        d.image = prev;
        save();
        throw ok(`deployment.apps/${t.name} rolled back`);
      }
      if (sub === 'restart') throw ok(`deployment.apps/${t.name} restarted`);
      break;
    }
    case 'scale': {
      const t = target(rest);
      const d = deployment(t.name);
      d.replicas = Number(flags.replicas);
      save();
      throw ok(`deployment.apps/${t.name} scaled`);
    }
    case 'get': {
      const t = target(rest);
      const out = flags.o ?? flags.output ?? '';
      if (/^(ns|namespaces?)$/.test(t.kind)) {
        if (!cluster.namespaces.includes(t.name))
          throw fail(`Error from server (NotFound): namespaces "${t.name}" not found`);
        throw ok(t.name);
      }
      if (/^(svc|services?)$/.test(t.kind)) {
        const s = cluster.services[`${ns}/${t.name}`];
        if (!s) throw fail(`Error from server (NotFound): services "${t.name}" not found`);
        const obj = { metadata: { name: t.name, namespace: ns }, spec: { selector: s.selector } };
        throw ok(out.startsWith('jsonpath') ? jsonpath(obj, out) : JSON.stringify(obj));
      }
      if (/^(deploy|deployments?(\.apps)?)$/.test(t.kind)) {
        const view = (name: string, d: Deployment) => ({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name, namespace: ns },
          spec: { replicas: d.replicas, template: { spec: { containers: [{ name: d.container, image: d.image }] } } },
          status: { readyReplicas: isReady(d) ? d.replicas : 0 },
        });
        if (!t.name) {
          if (!cluster.namespaces.includes(ns)) throw ok(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [] }));
          const items = Object.entries(cluster.deployments)
            .filter(([k]) => k.startsWith(`${ns}/`))
            .map(([k, d]) => view(k.slice(ns.length + 1), d));
          throw ok(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
        }
        const obj = view(t.name, deployment(t.name));
        throw ok(out.startsWith('jsonpath') ? jsonpath(obj, out) : JSON.stringify(obj));
      }
      break;
    }
    case 'patch': {
      const t = target(rest);
      const s = cluster.services[`${ns}/${t.name}`];
      if (!/^(svc|services?)$/.test(t.kind) || !s)
        throw fail(`Error from server (NotFound): ${t.kind} "${t.name}" not found`);
      const p = JSON.parse(flags.p ?? flags.patch ?? '{}');
      Object.assign(s.selector, p.spec?.selector ?? {});
      save();
      throw ok(`service/${t.name} patched`);
    }
    case 'port-forward': {
      const t = target(rest);
      const d = deployment(t.name);
      if (!isReady(d))
        throw fail(
          `error: unable to forward port because pod is not running. Current status=Pending (ImagePullBackOff: ${d.image})`,
        );
      if (!cluster.apiPort) throw fail('rehearsal: no local API to forward to (cluster.json apiPort)');
      process.stdout.write(
        `Forwarding from 127.0.0.1:${cluster.apiPort} -> ${
          rest
            .find((w) => w.includes(':'))
            ?.split(':')
            .pop() ?? '8080'
        }\n`,
      );
      await new Promise(() => {
        /* until killed, like the real port-forward */
      });
      break;
    }
    case 'create':
    case 'label':
    case 'annotate':
    case 'wait':
    case 'delete':
      throw ok(`${verb}: recorded`);
    case 'auth':
      throw ok('yes');
  }
  throw fail(
    `kubectl ${args.join(' ')}: not a command the rehearsal stand-in knows; add it to harness/rehearse/stubs/kubectl.ts`,
  );
}
