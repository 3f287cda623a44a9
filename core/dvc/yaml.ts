/**
 * Reading and writing YAML with Python's value semantics, for DVC's files: ints and floats stay
 * apart (`1.0` is written back as `1.0`), and equality is Python's (`1 == 1.0`). Parsing uses the
 * `yaml` package (YAML 1.2 core schema, like ruamel); writing uses the ruamel-compatible emitter.
 */
import { parse } from 'yaml';
import { PyFloat } from './pyjson.ts';

export { dumpYamlLikeDvc } from './ruamel-emitter.ts';

/**
 * Parse YAML keeping Python's int/float distinction: ints become numbers (bigint beyond 2^53),
 * floats with an integral value become PyFloat so that `1.0` is written back as `1.0`.
 */
export function parseYamlPy(text: string, source: string): unknown {
  let raw: unknown;
  try {
    raw = parse(text, { intAsBigInt: true, prettyErrors: true });
  } catch (err) {
    throw new Error(`${source}: invalid YAML: ${(err as Error).message}`, { cause: err });
  }
  return fromPyYaml(raw);
}

function fromPyYaml(v: unknown): unknown {
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (typeof v === 'number') return Number.isInteger(v) ? new PyFloat(v) : v;
  if (Array.isArray(v)) return v.map(fromPyYaml);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) out[k] = fromPyYaml(val);
    return out;
  }
  return v;
}

/** Python `==` on parsed values: 1 == 1.0, lists and dicts compared deeply. */
export function pyEquals(a: unknown, b: unknown): boolean {
  const num = (x: unknown): number | bigint | undefined =>
    x instanceof PyFloat ? x.value : typeof x === 'number' || typeof x === 'bigint' ? x : undefined;
  const na = num(a);
  const nb = num(b);
  if (na !== undefined || nb !== undefined) {
    if (na === undefined || nb === undefined) return false;

    return na == nb;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => pyEquals(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => k in b && pyEquals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}
