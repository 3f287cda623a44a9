/**
 * Which files DVC leaves out when it hashes a directory. DVC always skips `.git`, `.hg` and
 * `.dvc` directories (and a `.git` file), and applies gitignore-style patterns from `.dvcignore`.
 * Supported here: the repository root's `.dvcignore` (patterns with `*`, `?`, `[...]`, `**`,
 * a leading `/` to anchor, a trailing `/` for directories only, `!` to re-include). Nested
 * `.dvcignore` files are not read; a `.dvcignore` inside a tracked directory is an error in DVC,
 * and we report it the same way.
 *
 * One deliberate addition: temporary files that core/platform/atomic.ts writes next to their target
 * (`.<name>.tmp-<pid>-<hex>`) are skipped. They only exist while a write is in flight or after a
 * crash, and hashing one would make a directory look modified for no reason. DVC would include
 * them, so after a crash delete such files before comparing with real DVC.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface Rule {
  regex: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

const ATOMIC_TEMP = /^\..+\.tmp-\d+-[0-9a-f]+$/;
const ALWAYS_IGNORED_DIRS = new Set(['.git', '.hg', '.dvc']);

export const DVCIGNORE_FILE = '.dvcignore';

/** The text `dvc init` writes into a new `.dvcignore`. */
export const DEFAULT_DVCIGNORE =
  '# Add patterns of files dvc should ignore, which could improve\n' +
  '# the performance. Learn more at\n' +
  '# https://dvc.org/doc/user-guide/dvcignore\n';

export function isAtomicTempName(name: string): boolean {
  return ATOMIC_TEMP.test(name);
}

function globToRegexSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[++i]);
    } else if (ch === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        const atEnd = i + 2 === glob.length || glob[i + 2] === '/';
        if (atStart && atEnd) {
          i++;
          if (glob[i + 1] === '/') {
            i++;
            out += '(?:.*/)?'; // "**/" matches zero or more directories
          } else out += '.*'; // trailing "/**" matches everything inside
          continue;
        }
      }
      out += '[^/]*';
    } else if (ch === '?') {
      out += '[^/]';
    } else if (ch === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) out += '\\[';
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else out += escapeRegex(ch);
  }
  return out;
}

function escapeRegex(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? '\\' + ch : ch;
}

export function parseIgnorePatterns(text: string): Rule[] {
  const rules: Rule[] = [];
  for (let line of text.split(/\r?\n/)) {
    line = line.replace(/(?<!\\)\s+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1);
    let dirOnly = false;
    if (line.endsWith('/')) {
      dirOnly = true;
      line = line.slice(0, -1);
    }
    if (line === '') continue;
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    const body = globToRegexSource(line);
    // A pattern without a slash matches a name at any depth, as in gitignore.
    const source = anchored ? `^${body}$` : `^(?:.*/)?${body}$`;
    rules.push({ regex: new RegExp(source), negate, dirOnly });
  }
  return rules;
}

export class DvcIgnore {
  constructor(private readonly rules: Rule[] = []) {}

  /** Load the repository root's `.dvcignore`, if any. */
  static async load(repoRoot: string): Promise<DvcIgnore> {
    try {
      return new DvcIgnore(parseIgnorePatterns(await readFile(join(repoRoot, DVCIGNORE_FILE), 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new DvcIgnore();
      throw err;
    }
  }

  /**
   * `relPath` is relative to the repository root with `/` separators. Callers walk top-down and
   * do not descend into ignored directories, so parent exclusion needs no extra check here.
   */
  isIgnored(relPath: string, isDir: boolean): boolean {
    const name = relPath.slice(relPath.lastIndexOf('/') + 1);
    if (isDir && ALWAYS_IGNORED_DIRS.has(name)) return true;
    if (!isDir && (name === '.git' || isAtomicTempName(name))) return true;
    let ignored = false;
    for (const rule of this.rules) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.regex.test(relPath)) ignored = !rule.negate;
    }
    return ignored;
  }
}
