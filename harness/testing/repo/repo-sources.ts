/**
 * The repository's own TypeScript sources, read as text for tests that check rules across files:
 * relative imports (for import cycles), `JSON.parse` of metrics files and artifact manifests
 * outside their modules, and repository paths named in comments.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..', '..');
/** Where the product's TypeScript lives (harness/unit-tests.ts's roots plus docs). */
export const SOURCE_ROOTS = ['core', 'training', 'api', 'infra', '.github', 'harness', 'docs'];
const SKIP = new Set(['node_modules', 'testdata']);

export interface SourceFile {
  path: string;
  text: string;
}

/** Every `.ts` file under `roots` (paths relative to `repo`, `/`-separated, sorted), with its text. */
export async function readSources(repo: string = REPO, roots: readonly string[] = SOURCE_ROOTS): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory() && !SKIP.has(e.name)) await walk(join(dir, e.name));
      else if (e.isFile() && e.name.endsWith('.ts'))
        out.push({
          path: relative(repo, join(dir, e.name)).split('\\').join('/'),
          text: await readFile(join(dir, e.name), 'utf8'),
        });
    }
  };
  for (const root of roots) await walk(join(repo, root));
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** A TypeScript text split into its comments (line and block) and its code with the comments blanked (newlines kept); strings are skipped. */
export function splitComments(text: string): { comments: string[]; code: string } {
  const comments: string[] = [];
  let code = '';
  let i = 0;
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      const block = text[i + 1] === '*';
      const found = block ? text.indexOf('*/', i + 2) : text.indexOf('\n', i);
      const end = found < 0 ? text.length : block ? found + 2 : found;
      comments.push(text.slice(i + 2, block && found >= 0 ? found : end));
      code += blank(text.slice(i, end));
      i = end;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      code += text.slice(i, j + 1);
      i = j + 1;
    } else {
      code += c;
      i++;
    }
  }
  return { comments, code };
}

/**
 * Repository paths (relative to the repo root) this file imports by a relative specifier;
 * `types: false` leaves out `import type` / `export type` (erased at run time).
 */
export function relativeImports(file: SourceFile, options: { types?: boolean } = {}): string[] {
  const out = new Set<string>();
  const statements =
    /\b(?:import|export)\s+(type\s+)?(?:[^'";]*?\bfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const m of splitComments(file.text).code.matchAll(statements)) {
    if (m[1] && options.types === false) continue;
    out.add(
      join(dirname(file.path), m[2] ?? m[3])
        .split('\\')
        .join('/'),
    );
  }
  return [...out].sort();
}

/** Every cycle of `graph` (file → imported files), each once, starting at its smallest file. */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(canonical.join(' → '), canonical);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}

/**
 * Names by which code reaches a metrics file or an artifact manifest (its path, its file name, or
 * a path constant of core/schemas/metrics-files.ts or core/model/artifact-files.ts).
 */
const METRICS_NAME =
  /metrics\/|\b(?:evaluate|register|drift|experiments|validate|prepare|train|feature-distributions|bundle|roc|pr|calibration|residuals|feature-spec|reference-profile)\.json\b|\b[A-Z_]*_METRICS\b|\bEXPERIMENTS_FILE\b|\bDISTRIBUTIONS_FILE\b|\bBUNDLE_META_FILE\b|\bFEATURE_SPEC_FILE\b|\bPROFILE_FILE\b|\bPLOTS_DIR\b/;

/** The balanced-parenthesis argument text of the call whose `(` is at `open`. */
function argumentAt(code: string, open: number): string {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '(') depth++;
    else if (code[i] === ')' && --depth === 0) return code.slice(open + 1, i);
  }
  return code.slice(open + 1);
}

/**
 * Lines (1-based) where `JSON.parse` reads a metrics file or an artifact manifest (feature spec,
 * reference profile): its argument names one, or is a variable whose `readFile`/`git show` a few
 * lines above names one.
 */
export function metricsJsonParses(text: string): number[] {
  const { code } = splitComments(text);
  const lines: number[] = [];
  for (const m of code.matchAll(/JSON\.parse\s*\(/g)) {
    const arg = argumentAt(code, m.index + m[0].length - 1);
    const line = code.slice(0, m.index).split('\n').length;
    let names = METRICS_NAME.test(arg);
    const variable = /^\s*([A-Za-z_$][\w$]*)\s*$/.exec(arg)?.[1];
    if (!names && variable) {
      const before = code
        .split('\n')
        .slice(Math.max(0, line - 8), line - 1)
        .join('\n');
      const assigned = new RegExp(`\\b${variable}\\s*=[^;]*(?:readFile|run)\\s*\\(([^;]*)`).exec(before);
      names = !!assigned && METRICS_NAME.test(assigned[0]);
    }
    if (names) lines.push(line);
  }
  return lines;
}

/**
 * Repository-relative paths named in the comments of `file`: `a/b.ts`-like names with a known
 * extension, or anything under a top-level folder (`core/…`, `training/…`). Globs (`api/drift-*.ts`)
 * and names after an env variable (`REHEARSE_CLOUD/x.json`) are left out.
 */
export function commentPaths(file: SourceFile): string[] {
  const out = new Set<string>();
  const path =
    /(?<![\w./@$-])((?:\.{1,2}\/)?(?:[\w.-]+\/)+[\w.-]*\.(?:ts|json|yaml|yml|md|sh|py|csv|parquet)|(?:core|training|api|infra|tools|docs|\.github|metrics)\/[\w./-]*\w)(?![\w*{-])/g;
  for (const c of splitComments(file.text).comments) {
    for (const m of c.matchAll(path)) {
      if (/^[A-Z][A-Z0-9_]*\//.test(m[1])) continue;
      out.add(m[1].replace(/\.+$/, ''));
    }
  }
  return [...out].sort();
}
