/**
 * Byte-exact reproductions of the Python formatting DVC relies on. DVC names a directory by the
 * md5 of `json.dumps(entries, sort_keys=True)`, and writes numbers in YAML with `repr(float)`, so
 * any difference in a single byte would give a different hash or a noisy dvc.lock diff.
 */

/**
 * A float whose value happens to be integral (Python `1.0`). JavaScript numbers cannot tell
 * `1.0` from `1`, but Python (and so dvc.lock) keeps them apart.
 */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return pythonFloatRepr(this.value);
  }
  toJSON(): number {
    return this.value;
  }
}

/** Python `repr(float)`: shortest round-trip digits, exponent when exp < -4 or >= 16. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest digits that round-trip, like repr.
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const sign = x < 0 ? '-' : '';
  const decpt = exp + 1; // position of the decimal point relative to the digit string
  if (decpt <= -4 || decpt > 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const e = exp < 0 ? `-${String(-exp).padStart(2, '0')}` : `+${String(exp).padStart(2, '0')}`;
    return `${sign}${digits[0]}${frac}e${e}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** Compare strings by Unicode code point, as Python sorts `str` (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // Surrogates (astral code points) must sort after U+E000..U+FFFF, unlike in UTF-16 order.
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa !== sb) return sa ? 1 : -1;
    return ca - cb;
  }
  return a.length - b.length;
}

const JSON_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** Python's `json.dumps` string encoder with `ensure_ascii=True` (the default). */
export function pythonJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const code = s.charCodeAt(i);
    if (code >= 0x20 && code <= 0x7e && ch !== '"' && ch !== '\\') out += ch;
    else if (JSON_ESCAPES[ch]) out += JSON_ESCAPES[ch];
    // UTF-16 code units are exactly the \uXXXX sequences Python emits (surrogate pairs included).
    else out += '\\u' + code.toString(16).padStart(4, '0');
  }
  return out + '"';
}

export interface PythonJsonOptions {
  sortKeys?: boolean;
}

/**
 * `json.dumps(value, sort_keys=...)` with Python's default separators (", " and ": ").
 * Integral JS numbers print as ints; wrap a value in PyFloat to print it as a float.
 */
export function pythonJsonDumps(value: unknown, opts: PythonJsonOptions = {}): string {
  const enc = (v: unknown): string => {
    if (v === null || v === undefined) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'string') return pythonJsonString(v);
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof PyFloat) return floatJson(v.value);
    if (typeof v === 'number') return Number.isInteger(v) ? intJson(v) : floatJson(v);
    if (Array.isArray(v)) return v.length === 0 ? '[]' : '[' + v.map(enc).join(', ') + ']';
    if (typeof v === 'object') {
      const keys = Object.keys(v);
      if (opts.sortKeys) keys.sort(compareCodePoints);
      if (keys.length === 0) return '{}';
      const rec = v as Record<string, unknown>;
      return '{' + keys.map((k) => `${pythonJsonString(k)}: ${enc(rec[k])}`).join(', ') + '}';
    }
    throw new TypeError(`pythonJsonDumps: cannot encode a value of type ${typeof v}`);
  };
  return enc(value);
}

function intJson(v: number): string {
  // Integral doubles beyond 2^53 still print as Python ints would from the same double.
  return Math.abs(v) < 1e21 ? String(v) : BigInt(v).toString();
}

function floatJson(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return pythonFloatRepr(v);
}
