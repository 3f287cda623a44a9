/**
 * A checker for Mermaid's `xychart-beta` diagrams, written against Mermaid's own grammar
 * (packages/mermaid/src/diagrams/xychart/parser/xychart.jison): the same lexer states, rule order
 * and productions, so a block it accepts is one GitHub's Mermaid parses. `@mermaid-js/parser`
 * (1.x) has no xychart grammar, hence this. It then checks what Mermaid's renderer needs but its
 * parser does not enforce: at least one plot, and on a category (band) x-axis one value per
 * category (Mermaid pairs `categories[i]` with `data[i]` and draws NaN for the rest).
 */

export interface XyText {
  text: string;
  markdown: boolean;
}
export interface XyAxis {
  title: string;
  categories?: string[];
  range?: [number, number];
}
export interface XyPlot {
  type: 'line' | 'bar';
  name: string;
  data: number[];
}
export interface XyChart {
  orientation: 'vertical' | 'horizontal';
  title: string;
  xAxis: XyAxis;
  yAxis: XyAxis;
  plots: XyPlot[];
}

type State =
  | 'INITIAL'
  | 'string'
  | 'md_string'
  | 'acc_title'
  | 'acc_descr'
  | 'acc_descr_multiline'
  | 'axis_data'
  | 'axis_band_data'
  | 'data'
  | 'data_inner';
/** Mermaid's `%s` (inclusive) states: rules without a state condition apply in them too. */
const INCLUSIVE = new Set<State>(['INITIAL', 'axis_data', 'axis_band_data', 'data', 'data_inner']);

interface Token {
  type: string;
  text: string;
  at: number;
}
interface Rule {
  re: RegExp;
  states?: State[];
  action: (lx: Lexer, text: string) => string | null;
}

class Lexer {
  stack: State[] = ['INITIAL'];
  get state(): State {
    return this.stack[this.stack.length - 1];
  }
  push(s: State) {
    this.stack.push(s);
  }
  pop() {
    if (this.stack.length > 1) this.stack.pop();
  }
}

const tok = (type: string) => () => type;
const skip = () => null;
/** jison appends \b to literal rules that end in a word character (`line` does not match `lines`). */
const kw = (word: string) => new RegExp(`${word.replace(/[-]/g, '\\-')}\\b`, 'iy');

// The jison rules, in the jison file's order (first match wins, as in jison's default lexer).
const RULES: Rule[] = [
  { re: /%%(?!\{)[^\n]*/iy, action: skip },
  { re: /[^}]%%[^\n]*/iy, action: skip },
  {
    re: /\r?\n/iy,
    states: ['axis_data'],
    action: (lx) => {
      lx.pop();
      return 'NEWLINE';
    },
  },
  {
    re: /\r?\n/iy,
    states: ['data'],
    action: (lx) => {
      lx.pop();
      return 'NEWLINE';
    },
  },
  { re: /[\n\r]+/iy, action: tok('NEWLINE') },
  { re: /%%[^\n]*/iy, action: skip },
  { re: kw('title'), action: tok('title') },
  {
    re: /accTitle\s*:\s*/iy,
    action: (lx) => {
      lx.push('acc_title');
      return 'acc_title';
    },
  },
  {
    re: /(?!\n|;|#)*[^\n]*/iy,
    states: ['acc_title'],
    action: (lx) => {
      lx.pop();
      return 'acc_title_value';
    },
  },
  {
    re: /accDescr\s*:\s*/iy,
    action: (lx) => {
      lx.push('acc_descr');
      return 'acc_descr';
    },
  },
  {
    re: /(?!\n|;|#)*[^\n]*/iy,
    states: ['acc_descr'],
    action: (lx) => {
      lx.pop();
      return 'acc_descr_value';
    },
  },
  {
    re: /accDescr\s*\{\s*/iy,
    action: (lx) => {
      lx.push('acc_descr_multiline');
      return null;
    },
  },
  {
    re: /\}/iy,
    states: ['acc_descr_multiline'],
    action: (lx) => {
      lx.pop();
      return null;
    },
  },
  { re: /[^}]*/iy, states: ['acc_descr_multiline'], action: tok('acc_descr_multiline_value') },
  { re: kw('xychart-beta'), action: tok('XYCHART') },
  { re: kw('xychart'), action: tok('XYCHART') },
  { re: /vertical|horizontal/iy, action: tok('CHART_ORIENTATION') },
  {
    re: kw('x-axis'),
    action: (lx) => {
      lx.push('axis_data');
      return 'X_AXIS';
    },
  },
  {
    re: kw('y-axis'),
    action: (lx) => {
      lx.push('axis_data');
      return 'Y_AXIS';
    },
  },
  {
    re: /\[/iy,
    states: ['axis_data'],
    action: (lx) => {
      lx.push('axis_band_data');
      return 'SQUARE_BRACES_START';
    },
  },
  { re: /-->/iy, states: ['axis_data'], action: tok('ARROW_DELIMITER') },
  {
    re: kw('line'),
    action: (lx) => {
      lx.push('data');
      return 'LINE';
    },
  },
  {
    re: kw('bar'),
    action: (lx) => {
      lx.push('data');
      return 'BAR';
    },
  },
  {
    re: /\[/iy,
    states: ['data'],
    action: (lx) => {
      lx.push('data_inner');
      return 'SQUARE_BRACES_START';
    },
  },
  { re: /[+-]?(?:\d+(?:\.\d+)?|\.\d+)/iy, states: ['axis_data', 'data_inner'], action: tok('NUMBER_WITH_DECIMAL') },
  {
    re: /\]/iy,
    states: ['data_inner', 'axis_band_data'],
    action: (lx) => {
      lx.pop();
      return 'SQUARE_BRACES_END';
    },
  },
  {
    re: /"`/iy,
    action: (lx) => {
      lx.push('md_string');
      return null;
    },
  },
  { re: /(?:(?!`").)+/iy, states: ['md_string'], action: tok('MD_STR') },
  {
    re: /`"/iy,
    states: ['md_string'],
    action: (lx) => {
      lx.pop();
      return null;
    },
  },
  {
    re: /"/iy,
    action: (lx) => {
      lx.push('string');
      return null;
    },
  },
  {
    re: /"/iy,
    states: ['string'],
    action: (lx) => {
      lx.pop();
      return null;
    },
  },
  { re: /[^"]*/iy, states: ['string'], action: tok('STR') },
  { re: /\[/iy, action: tok('SQUARE_BRACES_START') },
  { re: /\]/iy, action: tok('SQUARE_BRACES_END') },
  { re: /[A-Za-z]+/iy, action: tok('ALPHA') },
  { re: /:/iy, action: tok('COLON') },
  { re: /\+/iy, action: tok('PLUS') },
  { re: /,/iy, action: tok('COMMA') },
  { re: /=/iy, action: tok('EQUALS') },
  { re: /\*/iy, action: tok('MULT') },
  { re: /#/iy, action: tok('BRKT') },
  { re: /_/iy, action: tok('UNDERSCORE') },
  { re: /\./iy, action: tok('DOT') },
  { re: /&/iy, action: tok('AMP') },
  { re: /-/iy, action: tok('MINUS') },
  { re: /[0-9]+/iy, action: tok('NUM') },
  { re: /\s+/iy, action: skip },
  { re: /;/iy, action: tok('SEMI') },
];

export function lexXychart(source: string): Token[] {
  const lx = new Lexer();
  const out: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const state = lx.state;
    let matched = false;
    for (const rule of RULES) {
      if (rule.states ? !rule.states.includes(state) : !INCLUSIVE.has(state)) continue;
      rule.re.lastIndex = at;
      const m = rule.re.exec(source);
      if (!m) continue;
      const depth = lx.stack.length;
      const type = rule.action(lx, m[0]);
      // jison takes the first rule that matches, even empty; empty is progress only if the state changed.
      if (m[0].length === 0 && lx.stack.length === depth)
        throw new Error(`xychart: the lexer cannot advance at offset ${at} (state ${state})`);
      if (type) out.push({ type, text: m[0], at });
      at += m[0].length;
      matched = true;
      break;
    }
    if (!matched)
      throw new Error(
        `xychart: unexpected character ${JSON.stringify(source[at])} at offset ${at} (lexer state ${state})`,
      );
  }
  out.push({ type: 'EOF', text: '', at });
  return out;
}

const ALPHANUM = new Set(['AMP', 'NUM', 'ALPHA', 'PLUS', 'EQUALS', 'MULT', 'DOT', 'BRKT', 'MINUS', 'UNDERSCORE']);
const EOL = new Set(['NEWLINE', 'SEMI']);

/** Parse a diagram (without the ```mermaid fence) the way Mermaid's xychart parser does; throws on a syntax error. */
export function parseXychart(source: string): XyChart {
  const tokens = lexXychart(source);
  let i = 0;
  const peek = () => tokens[i];
  const fail = (what: string): never => {
    const t = peek();
    throw new Error(
      `xychart: expected ${what}, got ${t.type}${t.text ? ` ${JSON.stringify(t.text)}` : ''} at offset ${t.at}`,
    );
  };
  const take = (type: string) => (peek().type === type ? tokens[i++] : fail(type));
  const isText = () => peek().type === 'STR' || peek().type === 'MD_STR' || ALPHANUM.has(peek().type);
  const text = (): XyText => {
    if (peek().type === 'STR') return { text: tokens[i++].text, markdown: false };
    if (peek().type === 'MD_STR') return { text: tokens[i++].text, markdown: true };
    if (!ALPHANUM.has(peek().type)) fail('a text (quoted string or letters/digits)');
    let s = '';
    while (ALPHANUM.has(peek().type)) s += tokens[i++].text;
    return { text: s, markdown: false };
  };
  const numbers = (): number[] => {
    take('SQUARE_BRACES_START');
    const out = [Number(take('NUMBER_WITH_DECIMAL').text)];
    while (peek().type === 'COMMA') {
      i++;
      out.push(Number(take('NUMBER_WITH_DECIMAL').text));
    }
    take('SQUARE_BRACES_END');
    return out;
  };
  const range = (): [number, number] => {
    const a = Number(take('NUMBER_WITH_DECIMAL').text);
    take('ARROW_DELIMITER');
    return [a, Number(take('NUMBER_WITH_DECIMAL').text)];
  };
  const axis = (x: boolean): XyAxis => {
    const out: XyAxis = { title: '' };
    if (isText()) out.title = text().text;
    else if (peek().type !== 'NUMBER_WITH_DECIMAL' && !(x && peek().type === 'SQUARE_BRACES_START'))
      fail('an axis title, a range or (x-axis) categories');
    if (peek().type === 'NUMBER_WITH_DECIMAL') out.range = range();
    else if (x && peek().type === 'SQUARE_BRACES_START') {
      i++;
      out.categories = [text().text];
      while (peek().type === 'COMMA') {
        i++;
        out.categories.push(text().text);
      }
      take('SQUARE_BRACES_END');
    }
    return out;
  };

  const chart: XyChart = { orientation: 'vertical', title: '', xAxis: { title: '' }, yAxis: { title: '' }, plots: [] };
  // start: eol start | XYCHART chartConfig start | XYCHART start | document
  let header = false;
  for (;;) {
    if (EOL.has(peek().type)) i++;
    else if (peek().type === 'XYCHART') {
      i++;
      header = true;
      if (peek().type === 'CHART_ORIENTATION')
        chart.orientation = tokens[i++].text.toLowerCase() as XyChart['orientation'];
    } else break;
  }
  if (!header) fail('xychart-beta');
  // document: statement*, statement: statement eol | ...
  while (peek().type !== 'EOF') {
    const t = peek().type;
    if (EOL.has(t)) {
      i++;
      continue;
    }
    i++;
    if (t === 'title') chart.title = text().text.trim();
    else if (t === 'X_AXIS') chart.xAxis = axis(true);
    else if (t === 'Y_AXIS') chart.yAxis = axis(false);
    else if (t === 'LINE' || t === 'BAR') {
      const name = isText() ? text().text : '';
      chart.plots.push({ type: t === 'LINE' ? 'line' : 'bar', name, data: numbers() });
    } else if (t === 'acc_title') take('acc_title_value');
    else if (t === 'acc_descr') take('acc_descr_value');
    else if (t === 'acc_descr_multiline_value') continue;
    else {
      i--;
      fail('a statement (title, x-axis, y-axis, line, bar)');
    }
  }
  return chart;
}

/** Parse, then check what the renderer needs: a plot, and one value per category on a band axis. */
export function checkXychart(source: string): XyChart {
  const chart = parseXychart(source);
  if (!chart.plots.length) throw new Error('xychart: no line or bar to render (Mermaid throws "No Plot to render")');
  const categories = chart.xAxis.categories;
  for (const p of chart.plots) {
    if (categories && p.data.length !== categories.length)
      throw new Error(
        `xychart: ${p.type} "${p.name}" has ${p.data.length} values for ${categories.length} x-axis categories`,
      );
    if (!categories && p.data.length < 2)
      throw new Error(`xychart: ${p.type} "${p.name}" needs at least 2 values on a numeric x-axis`);
  }
  return chart;
}
