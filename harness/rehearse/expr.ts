/**
 * GitHub Actions expressions, evaluated by GitHub's own `@actions/expressions` (lexer, parser,
 * evaluator, built-in functions) over plain-JSON contexts, plus the functions the runner adds:
 * the status checks `success()`, `failure()`, `always()`, `cancelled()` and `hashFiles()`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface ExprContext {
  contexts: Record<string, Json>;
  /** The job's status so far, for the status functions. */
  status: 'success' | 'failure' | 'cancelled';
  /** Where hashFiles() looks (GITHUB_WORKSPACE). */
  workspace: string;
}

type FunctionDefinition = {
  name: string;
  minArgs: number;
  maxArgs: number;
  call: (...args: data.ExpressionData[]) => data.ExpressionData;
};

/** The value an expression data node stands for, as plain JSON. */
export function toJson(d: data.ExpressionData): Json {
  return JSON.parse(JSON.stringify(d, data.replacer) ?? 'null') as Json;
}

function fromJson(value: Json): data.ExpressionData {
  return JSON.parse(JSON.stringify(value ?? null), data.reviver) as data.ExpressionData;
}

/** Expression truthiness: false, 0, -0, NaN, '' and null are falsy. */
export function truthy(v: Json): boolean {
  return !(v === null || v === false || v === '' || (typeof v === 'number' && (v === 0 || Number.isNaN(v))));
}

/** What `${{ x }}` turns a value into inside a string: objects and arrays as JSON, null as ''. */
export function toText(v: Json): string {
  if (v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v, null, 2);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function listFiles(dir: string, root = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === '.git' || entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, root));
    else if (entry.isFile()) out.push(relative(root, full));
  }
  return out;
}

/** hashFiles(): SHA-256 over the SHA-256 of each matching file (sorted), '' when none match. */
export function hashFiles(workspace: string, patterns: string[]): string {
  const include = patterns.filter((p) => !p.startsWith('!')).map(globToRegExp);
  const exclude = patterns.filter((p) => p.startsWith('!')).map((p) => globToRegExp(p.slice(1)));
  const files = listFiles(workspace)
    .filter((f) => include.some((r) => r.test(f)) && !exclude.some((r) => r.test(f)))
    .sort();
  if (!files.length) return '';
  const outer = createHash('sha256');
  for (const f of files)
    if (statSync(join(workspace, f)).isFile())
      outer.update(
        createHash('sha256')
          .update(readFileSync(join(workspace, f)))
          .digest(),
      );
  return outer.digest('hex');
}

function functions(ctx: ExprContext): Map<string, FunctionDefinition> {
  const bool = (b: boolean) => new data.BooleanData(b);
  const defs: FunctionDefinition[] = [
    { name: 'success', minArgs: 0, maxArgs: 0, call: () => bool(ctx.status === 'success') },
    { name: 'failure', minArgs: 0, maxArgs: 0, call: () => bool(ctx.status === 'failure') },
    { name: 'cancelled', minArgs: 0, maxArgs: 0, call: () => bool(ctx.status === 'cancelled') },
    { name: 'always', minArgs: 0, maxArgs: 0, call: () => bool(true) },
    {
      name: 'hashFiles',
      minArgs: 1,
      maxArgs: 255,
      call: (...args) =>
        new data.StringData(
          hashFiles(
            ctx.workspace,
            args.map((a) => a.coerceString()),
          ),
        ),
    },
  ];
  return new Map(defs.map((d) => [d.name.toLowerCase(), d]));
}

/** Evaluate one expression (without `${{ }}`); throws with the expression in the message. */
export function evaluate(expression: string, ctx: ExprContext): Json {
  try {
    const lexed = new Lexer(expression).lex();
    const fns = functions(ctx);
    const expr = new Parser(lexed.tokens, Object.keys(ctx.contexts), [...fns.values()]).parse();
    const root = new data.Dictionary(
      ...Object.entries(ctx.contexts).map(([key, value]) => ({ key, value: fromJson(value) })),
    );
    return toJson(new Evaluator(expr, root, fns).evaluate());
  } catch (err) {
    throw new Error(`expression \${{ ${expression} }}: ${(err as Error).message}`, { cause: err });
  }
}

/** A job or step `if:`: a bare expression; without a status function it implies success() &&. */
export function evaluateIf(condition: string | undefined, ctx: ExprContext): boolean {
  const raw = (condition ?? '')
    .trim()
    .replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')
    .trim();
  if (!raw) return ctx.status === 'success';
  const hasStatus = /\b(success|failure|always|cancelled)\s*\(/.test(raw);
  return truthy(evaluate(hasStatus ? raw : `success() && (${raw})`, ctx));
}

/**
 * A value as written in the workflow, evaluated: `${{ expr }}` alone yields the expression's value
 * (typed); inside a longer string each one is replaced by its text; mappings and sequences are
 * evaluated element by element (keys too).
 */
export function evaluateToken(value: Json | undefined, ctx: ExprContext): Json {
  if (value === undefined) return null;
  if (typeof value === 'string') {
    if (!value.includes('${{')) return value;
    const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(value);
    if (whole && !whole[1].includes('}}')) return evaluate(whole[1].trim(), ctx);
    return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, e: string) => toText(evaluate(e.trim(), ctx)));
  }
  if (Array.isArray(value)) return value.map((v) => evaluateToken(v, ctx));
  if (value && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) out[toText(evaluateToken(k, ctx))] = evaluateToken(v, ctx);
    return out;
  }
  return value;
}

/** A value that must be a string (run:, with: values, env values): its text. */
export function evaluateText(value: Json | undefined, ctx: ExprContext): string {
  return toText(evaluateToken(value, ctx));
}

/** A mapping (env:, with:, outputs:) as string values. */
export function evaluateMap(value: Json | undefined, ctx: ExprContext): Record<string, string> {
  const v = evaluateToken(value, ctx);
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`expected a mapping, got ${JSON.stringify(v)}`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toText(x)]));
}
