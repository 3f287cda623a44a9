/**
 * A stage contract: what one pipeline stage runs, reads and writes, declared once in code.
 * `npm run pipeline:gen` writes dvc.yaml from the contracts (deps = declared data inputs + the
 * entry's import closure, params = the declared keys), and the stage itself gets its params
 * through `contract.params(...)`: a view holding only the declared keys, typed as such, that
 * throws on any other read. So a param a stage reads is a param DVC tracks for it.
 */
import type { Params } from '../../core/schemas/params.ts';

/** Top-level params.yaml sections (the schema's passthrough index signature left out). */
type Section = keyof { [K in keyof Params as string extends K ? never : number extends K ? never : K]: true };

/** A key DVC can track: a section or `section.key` (DVC's dotted params syntax). */
export type ParamKey = { [S in Section]: S | `${S}.${keyof NonNullable<Params[S]> & string}` }[Section];

type Pick1<T, K extends string> = K extends keyof T ? { [P in K]: T[P] } : never;
type PickPath<K extends string> = K extends `${infer S}.${infer R}`
  ? S extends Section
    ? undefined extends Params[S]
      ? { [P in S]?: Pick1<NonNullable<Params[S]>, R> }
      : { [P in S]: Pick1<Params[S], R> }
    : never
  : K extends Section
    ? undefined extends Params[K]
      ? { [P in K]?: Params[K] }
      : { [P in K]: Params[K] }
    : never;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** The params a stage declared, and nothing else. A full `Params` is assignable to it. */
export type ParamsView<K extends ParamKey> = [K] extends [never]
  ? Record<never, never>
  : UnionToIntersection<PickPath<K>>;

/** How an output is declared to DVC (the flags of its dvc.yaml entry). */
export interface OutputDecl {
  path: string;
  kind: 'outs' | 'metrics' | 'plots';
  /** false: kept in git instead of the DVC cache (metrics, plots, small JSON). */
  cache?: boolean;
  /** true: DVC does not delete it before the stage runs (an append-only log). */
  persist?: boolean;
  /** dvc plots properties. */
  plot?: { x: string; y: string; title: string; template?: string };
}

/** What dvc.yaml is generated from (the data part of a contract). */
export interface StageDecl {
  name: string;
  /** The script `node --import tsx <entry>` runs; its import closure becomes code deps. */
  entry: string;
  /** Data the stage reads (files or directories), in the order dvc.yaml lists them. */
  inputs: readonly string[];
  /** params.yaml keys the stage reads; `params()` hands over exactly these. */
  paramKeys: readonly string[];
  /**
   * Environment variables the stage reads, each with the reason it is not a DVC param. DVC
   * cannot track the environment, so these must never change what the stage computes.
   */
  env: Readonly<Record<string, string>>;
  outputs: readonly OutputDecl[];
  /** Written to dvc.yaml as the stage's `desc`. */
  desc?: string;
}

export interface StageContract<K extends ParamKey = ParamKey, E extends string = string> extends StageDecl {
  paramKeys: readonly K[];
  env: Readonly<Record<E, string>>;
  /** The declared params of `all` as a read-guarded view. */
  params(all: ParamsView<K>): ParamsView<K>;
  /** The declared environment variables (undefined when unset). */
  readEnv(env: NodeJS.ProcessEnv): { [V in E]: string | undefined };
}

/** Reading these never counts as reading a param (await, JSON.stringify, util.inspect ask for them). */
const HARMLESS = new Set([
  'then',
  'toJSON',
  'constructor',
  'valueOf',
  'toString',
  'inspect',
  'nodeType',
  'asymmetricMatch',
  '$$typeof',
]);

function guard(
  stage: string,
  prefix: string,
  value: Record<string, unknown>,
  allowed: Set<string>,
): Record<string, unknown> {
  return new Proxy(value, {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol' || allowed.has(prop) || HARMLESS.has(prop))
        return Reflect.get(target, prop, receiver) as unknown;
      throw new Error(
        `stage '${stage}' read params.yaml key '${prefix}${prop}', which its contract does not declare; ` +
          `add '${prefix}${prop}' to the paramKeys of training/contracts/${stage}.ts and run \`npm run pipeline:gen\` (so DVC re-runs the stage when it changes)`,
      );
    },
    has(target, prop) {
      return typeof prop === 'symbol' || allowed.has(prop) ? Reflect.has(target, prop) : false;
    },
    ownKeys(target) {
      return Reflect.ownKeys(target).filter((k) => typeof k === 'symbol' || allowed.has(k));
    },
  });
}

/** A guarded copy of the declared keys of `all` (a full Params or another view). */
export function paramsView(stage: string, keys: readonly string[], all: object): Record<string, unknown> {
  const source = all as Record<string, unknown>;
  const whole = new Set(keys.filter((k) => !k.includes('.')));
  const parts = new Map<string, Set<string>>();
  for (const k of keys) {
    const [section, ...rest] = k.split('.');
    if (rest.length && !whole.has(section)) parts.set(section, (parts.get(section) ?? new Set()).add(rest.join('.')));
  }
  const view: Record<string, unknown> = {};
  for (const section of whole) if (source[section] !== undefined) view[section] = source[section];
  for (const [section, subKeys] of parts) {
    const value = source[section] as Record<string, unknown> | undefined;
    if (value === undefined || value === null) continue;
    const sub: Record<string, unknown> = {};
    for (const k of subKeys) if (value[k] !== undefined) sub[k] = value[k];
    view[section] = guard(stage, `${section}.`, sub, subKeys);
  }
  return guard(stage, '', view, new Set([...whole, ...parts.keys()]));
}

export function defineStage<const K extends ParamKey, const E extends string = never>(spec: {
  name: string;
  entry: string;
  inputs: readonly string[];
  paramKeys: readonly K[];
  env?: Readonly<Record<E, string>>;
  outputs: readonly OutputDecl[];
  desc?: string;
}): StageContract<K, E> {
  const env = (spec.env ?? {}) as Readonly<Record<E, string>>;
  return {
    ...spec,
    env,
    params: (all) => paramsView(spec.name, spec.paramKeys, all as object) as ParamsView<K>,
    readEnv: (source) =>
      Object.fromEntries(Object.keys(env).map((k) => [k, source[k]])) as { [V in E]: string | undefined },
  };
}

/** The params type a contract hands its stage. */
export type StageParams<C> = C extends StageContract<infer K, string> ? ParamsView<K> : never;
