/**
 * The stage DAG of dvc.yaml, built the way DVC builds it: stage B depends on stage A when one of
 * B's deps is one of A's outs, lies inside it, or contains it. Outputs may not overlap (one
 * path, one producer), and cycles are errors; both are reported with the stages involved.
 */
import { posix, relative, resolve, sep } from 'node:path';
import type { StageSpec } from '../../core/dvc/index.ts';

export interface StageNode {
  spec: StageSpec;
  index: number;
  /** Repository-relative "/" paths. */
  deps: string[];
  outs: string[];
  upstream: Set<string>;
}

export interface StageGraph {
  nodes: Map<string, StageNode>;
  /** All stages, dependencies first; ties keep dvc.yaml order. */
  order: string[];
}

export function repoRelative(repoRoot: string, wdir: string, path: string): string {
  const rel = relative(repoRoot, resolve(repoRoot, wdir, path))
    .split(sep)
    .join('/');
  return posix.normalize(rel || '.').replace(/\/+$/, '');
}

function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(b + '/') || b.startsWith(a + '/') || a === '.' || b === '.';
}

function checkOutputs(nodes: StageNode[]): void {
  const all = nodes.flatMap((n) => n.outs.map((path) => ({ path, stage: n.spec.name })));
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i];
      const b = all[j];
      if (a.path === b.path) {
        throw new Error(
          `output '${a.path}' is declared by ${a.stage === b.stage ? `stage '${a.stage}' twice` : `stages '${a.stage}' and '${b.stage}'`}; every output must have exactly one producer`,
        );
      }
      if (overlaps(a.path, b.path)) {
        throw new Error(
          `outputs '${a.path}' (stage '${a.stage}') and '${b.path}' (stage '${b.stage}') overlap; one output may not contain another`,
        );
      }
    }
  }
}

function findCycle(nodes: Map<string, StageNode>, start: string): string[] {
  const path: string[] = [];
  const onPath = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string): string[] | null => {
    path.push(name);
    onPath.add(name);
    for (const up of nodes.get(name)!.upstream) {
      if (onPath.has(up)) return [...path.slice(path.indexOf(up)), up];
      if (!done.has(up)) {
        const c = visit(up);
        if (c) return c;
      }
    }
    path.pop();
    onPath.delete(name);
    done.add(name);
    return null;
  };
  return visit(start) ?? [start];
}

export function buildGraph(repoRoot: string, stages: readonly StageSpec[]): StageGraph {
  const list: StageNode[] = stages.map((spec, index) => ({
    spec,
    index,
    deps: spec.deps.map((d) => repoRelative(repoRoot, spec.wdir, d)),
    outs: spec.outs.map((o) => repoRelative(repoRoot, spec.wdir, o.path)),
    upstream: new Set(),
  }));
  checkOutputs(list);
  for (const node of list) {
    for (const dep of node.deps) {
      for (const other of list) {
        const out = other.outs.find((o) => overlaps(o, dep));
        if (!out) continue;
        if (other === node)
          throw new Error(
            `stage '${node.spec.name}' depends on its own output '${out}' (dep '${dep}'); a stage cannot read what it writes`,
          );
        node.upstream.add(other.spec.name);
      }
    }
  }
  const nodes = new Map(list.map((n) => [n.spec.name, n]));
  // Kahn's algorithm, always taking the earliest ready stage in dvc.yaml order.
  const remaining = new Map(list.map((n) => [n.spec.name, n.upstream.size]));
  const order: string[] = [];
  while (order.length < list.length) {
    const ready = list.find((n) => remaining.get(n.spec.name) === 0);
    if (!ready) {
      const stuck = list.find((n) => (remaining.get(n.spec.name) ?? 0) > 0)!;
      throw new Error(`dvc.yaml has a dependency cycle: ${findCycle(nodes, stuck.spec.name).join(' -> ')}`);
    }
    remaining.delete(ready.spec.name);
    order.push(ready.spec.name);
    for (const n of list)
      if (n.upstream.has(ready.spec.name) && remaining.has(n.spec.name))
        remaining.set(n.spec.name, remaining.get(n.spec.name)! - 1);
  }
  return { nodes, order };
}

/** The targets and every stage they transitively depend on, in run order. */
export function selectStages(graph: StageGraph, targets: readonly string[]): string[] {
  const wanted = new Set<string>();
  const add = (name: string): void => {
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const up of graph.nodes.get(name)!.upstream) add(up);
  };
  for (const t of targets) {
    if (!graph.nodes.has(t))
      throw new Error(`unknown stage '${t}'; dvc.yaml defines: ${graph.order.join(', ') || 'no stages'}`);
    add(t);
  }
  return graph.order.filter((n) => wanted.has(n));
}
