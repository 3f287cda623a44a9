/**
 * YAML the way DVC writes it. DVC dumps dvc.lock and .dvc files with ruamel.yaml (block style,
 * 2-space indent, sequences not indented under their key, lines folded past column 80). The
 * `yaml` package formats differently (it folds before column 80, indents sequences), so writing
 * through it would make every lock we write differ from the one `dvc repro` writes. This emitter
 * follows ruamel's emitter for the plain data these files hold: mappings, sequences, strings,
 * numbers, booleans and null. Checked against recorded ruamel output (testdata/ruamel-vectors.json).
 */
import { PyFloat, pythonFloatRepr } from './pyjson.ts';

const BEST_WIDTH = 80;
const BREAKS = '\n\x85\u2028\u2029';
const WHITESPACE = '\0 \t\r\n\x85\u2028\u2029';

// ruamel's YAML 1.2 implicit resolvers: a string matching one of these must be quoted, or it
// would read back as a bool, number, null, timestamp, merge key or value indicator.
const NON_STR_PATTERNS: RegExp[] = [
  /^(?:true|True|TRUE|false|False|FALSE)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$/,
  /^(?:<<)$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9]{2})?))?)$/,
  /^(?:=)$/,
];

function resolvesToString(text: string): boolean {
  return !NON_STR_PATTERNS.some((re) => re.test(text));
}

interface Analysis {
  empty: boolean;
  multiline: boolean;
  allowBlockPlain: boolean;
  allowSingleQuoted: boolean;
}

/** ruamel's analyze_scalar, reduced to the block-context answers we need. */
function analyze(chars: string[]): Analysis {
  if (chars.length === 0) return { empty: true, multiline: false, allowBlockPlain: true, allowSingleQuoted: true };
  const text = chars.join('');
  let blockIndicators = text.startsWith('---') || text.startsWith('...');
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false,
    leadingBreak = false,
    trailingSpace = false,
    trailingBreak = false;
  let breakSpace = false,
    spaceBreak = false,
    previousSpace = false,
    previousBreak = false;
  let precededByWs = true;
  let followedByWs = chars.length === 1 || WHITESPACE.includes(chars[1]);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) blockIndicators = true;
      if ('?:'.includes(ch) && followedByWs) blockIndicators = true;
      if (ch === '-' && followedByWs) blockIndicators = true;
    } else {
      if (ch === ':' && followedByWs) blockIndicators = true;
      if (ch === '#' && precededByWs) blockIndicators = true;
    }
    if (BREAKS.includes(ch)) lineBreaks = true;
    if (!(ch === '\n' || (ch >= ' ' && ch <= '~'))) {
      const printable =
        (ch === '\x85' || (ch >= '\xA0' && ch <= '\uD7FF') || (ch >= '\uE000' && ch <= '\uFFFD') || ch.length === 2) &&
        ch !== '\uFEFF';
      if (!printable) special = true; // allow_unicode is on in ruamel, so printable non-ASCII is fine
    }
    if (ch === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (BREAKS.includes(ch)) {
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWs = WHITESPACE.includes(ch);
    followedByWs = i + 2 >= chars.length || WHITESPACE.includes(chars[i + 2]);
  }
  let allowBlockPlain = !(leadingSpace || leadingBreak || trailingSpace || trailingBreak);
  let allowSingleQuoted = true;
  if (breakSpace) allowBlockPlain = allowSingleQuoted = false;
  if (special || spaceBreak) allowBlockPlain = allowSingleQuoted = false;
  if (lineBreaks || blockIndicators) allowBlockPlain = false;
  return { empty: false, multiline: lineBreaks, allowBlockPlain, allowSingleQuoted };
}

const DOUBLE_QUOTE_ESCAPES: Record<string, string> = {
  '\0': '0',
  '\x07': 'a',
  '\x08': 'b',
  '\x09': 't',
  '\x0A': 'n',
  '\x0B': 'v',
  '\x0C': 'f',
  '\x0D': 'r',
  '\x1B': 'e',
  '"': '"',
  '\\': '\\',
  '\x85': 'N',
  '\xA0': '_',
  '\u2028': 'L',
  '\u2029': 'P',
};

/** Writer state mirroring ruamel's Emitter: column, "last written was whitespace", indention. */
class Emitter {
  out = '';
  column = 0;
  whitespace = true;
  indention = true;

  private write(data: string, width = [...data].length): void {
    this.out += data;
    this.column += width;
  }

  indicator(ind: string, needWhitespace: boolean, whitespace = false, indention = false): void {
    this.write(this.whitespace || !needWhitespace ? ind : ' ' + ind);
    this.whitespace = whitespace;
    this.indention = this.indention && indention;
  }

  indent(indent: number): void {
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.lineBreak();
    if (this.column < indent) {
      this.whitespace = true;
      this.write(' '.repeat(indent - this.column));
    }
  }

  lineBreak(): void {
    this.out += '\n';
    this.lineBreakState();
  }

  lineBreakState(): void {
    this.whitespace = true;
    this.indention = true;
    this.column = 0;
  }

  node(value: unknown, parentIndent: number | null, context: 'root' | 'map' | 'seq'): void {
    if (Array.isArray(value)) return this.sequence(value, parentIndent, context);
    if (value !== null && typeof value === 'object' && !(value instanceof PyFloat)) {
      return this.mapping(value as Record<string, unknown>, parentIndent);
    }
    const indent = parentIndent === null ? 0 : parentIndent + 2;
    if (context === 'seq') this.indent(indent);
    this.scalar(value, indent, false);
  }

  private sequence(items: unknown[], parentIndent: number | null, context: string): void {
    if (items.length === 0) {
      this.indicator('[', true, true);
      this.indicator(']', false);
      return;
    }
    // Under a mapping key the dash sits at the key's column (ruamel's "indentless" sequence).
    const indentless = context === 'map' && !this.indention;
    const indent = parentIndent === null ? 0 : indentless ? parentIndent : parentIndent + 2;
    for (const item of items) {
      this.indent(indent);
      this.indicator('-', true, false, true);
      this.node(item, indent, 'seq');
    }
  }

  private mapping(map: Record<string, unknown>, parentIndent: number | null): void {
    const keys = Object.keys(map);
    if (keys.length === 0) {
      this.indicator('{', true, true);
      this.indicator('}', false);
      return;
    }
    const indent = parentIndent === null ? 0 : parentIndent + 2;
    for (const key of keys) {
      if (key === '' || [...key].length >= 128 || /[\n\x85\u2028\u2029]/.test(key)) {
        throw new Error(
          `cannot write the mapping key ${JSON.stringify(key)}: ruamel would make it a complex key ("? "), which this writer does not produce`,
        );
      }
      this.indent(indent);
      this.scalar(key, indent + 2, true);
      this.indicator(':', false);
      this.node(map[key], indent, 'map');
    }
  }

  private scalar(value: unknown, indent: number, simpleKey: boolean): void {
    if (value === null || value === undefined) return this.plain([], indent, false);
    if (typeof value === 'boolean') return this.plain([...String(value)], indent, false);
    if (typeof value === 'bigint') return this.plain([...value.toString()], indent, false);
    if (value instanceof PyFloat) return this.plain([...floatText(value.value)], indent, false);
    if (typeof value === 'number') {
      return this.plain([...(Number.isInteger(value) ? String(value) : floatText(value))], indent, false);
    }
    if (typeof value !== 'string') throw new TypeError(`cannot write a ${typeof value} to YAML`);
    const chars = [...value];
    const a = analyze(chars);
    const split = !simpleKey;
    if (resolvesToString(value) && !(simpleKey && (a.empty || a.multiline)) && a.allowBlockPlain) {
      return this.plain(chars, indent, split);
    }
    if (value.includes("'") || value.includes('\n')) return this.doubleQuoted(chars, indent, split);
    if (a.allowSingleQuoted && !(simpleKey && a.multiline)) return this.singleQuoted(chars, indent, split);
    return this.doubleQuoted(chars, indent, split);
  }

  private plain(chars: string[], indent: number, split: boolean): void {
    if (chars.length === 0) return;
    if (!this.whitespace) this.write(' ');
    this.whitespace = false;
    this.indention = false;
    let spaces = false;
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end] : null;
      if (spaces) {
        if (ch !== ' ') {
          // Fold only at a single space, and only once the line is already past the width.
          if (start + 1 === end && this.column > BEST_WIDTH && split) {
            this.indent(indent);
            this.whitespace = false;
            this.indention = false;
          } else this.write(chars.slice(start, end).join(''), end - start);
          start = end;
        }
      } else if (ch === null || ch === ' ') {
        this.write(chars.slice(start, end).join(''), end - start);
        start = end;
      }
      if (ch !== null) spaces = ch === ' ';
    }
  }

  private singleQuoted(chars: string[], indent: number, split: boolean): void {
    this.indicator("'", true);
    let spaces = false;
    let breaks = false;
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end] : null;
      if (spaces) {
        if (ch === null || ch !== ' ') {
          if (start + 1 === end && this.column > BEST_WIDTH && split && start !== 0 && end !== chars.length) {
            this.indent(indent);
          } else this.write(chars.slice(start, end).join(''), end - start);
          start = end;
        }
      } else if (breaks) {
        // Only U+0085/U+2028/U+2029 get here: a string holding '\n' is always double-quoted.
        if (ch === null || !BREAKS.includes(ch)) {
          for (const br of chars.slice(start, end)) {
            this.out += br;
            this.lineBreakState();
          }
          this.indent(indent);
          start = end;
        }
      } else if (ch === null || ch === ' ' || BREAKS.includes(ch) || ch === "'") {
        if (start < end) {
          this.write(chars.slice(start, end).join(''), end - start);
          start = end;
        }
      }
      if (ch === "'") {
        this.write("''");
        start = end + 1;
      }
      if (ch !== null) {
        spaces = ch === ' ';
        breaks = BREAKS.includes(ch);
      }
    }
    this.indicator("'", false);
  }

  private doubleQuoted(chars: string[], indent: number, split: boolean): void {
    this.indicator('"', true);
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end] : null;
      if (ch === null || needsEscape(ch)) {
        if (start < end) {
          this.write(chars.slice(start, end).join(''), end - start);
          start = end;
        }
        if (ch !== null) {
          this.write(escapeChar(ch));
          start = end + 1;
        }
      }
      if (
        0 < end &&
        end < chars.length - 1 &&
        (ch === ' ' || start >= end) &&
        this.column + (end - start) > BEST_WIDTH &&
        split
      ) {
        const data = chars.slice(start, end).join('') + '\\';
        if (start < end) start = end;
        this.write(data);
        this.indent(indent);
        this.whitespace = false;
        this.indention = false;
        if (chars[start] === ' ') this.write('\\');
      }
    }
    this.indicator('"', false);
  }
}

function needsEscape(ch: string): boolean {
  if ('"\\\x85\u2028\u2029\uFEFF'.includes(ch)) return true;
  return !((ch >= ' ' && ch <= '~') || (ch >= '\xA0' && ch <= '\uD7FF') || (ch >= '\uE000' && ch <= '\uFFFD'));
}

function escapeChar(ch: string): string {
  const named = DOUBLE_QUOTE_ESCAPES[ch];
  if (named) return '\\' + named;
  const code = ch.codePointAt(0)!;
  if (code <= 0xff) return '\\x' + code.toString(16).toUpperCase().padStart(2, '0');
  if (code <= 0xffff) return '\\u' + code.toString(16).toUpperCase().padStart(4, '0');
  return '\\U' + code.toString(16).toUpperCase().padStart(8, '0');
}

/** ruamel writes floats as `repr(f).lower()`, with .inf/.nan spelled the YAML way. */
function floatText(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  if (x === Infinity) return '.inf';
  if (x === -Infinity) return '-.inf';
  return pythonFloatRepr(x);
}

/** Serialize plain data exactly as DVC's ruamel.yaml dumper does (key order is kept). */
export function dumpYamlLikeDvc(value: unknown): string {
  const e = new Emitter();
  e.node(value, null, 'root');
  if (e.column > 0 || e.out === '') e.lineBreak();
  return e.out;
}
