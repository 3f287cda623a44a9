/**
 * The runner's file commands, read after each step: GITHUB_ENV and GITHUB_OUTPUT hold `name=value`
 * lines or the heredoc form `name<<DELIMITER` … `DELIMITER`; GITHUB_PATH holds one directory per
 * line (prepended to PATH, last line first); GITHUB_STEP_SUMMARY is markdown appended to the job
 * summary. Also the workflow commands a step prints (`::error::`, `::warning::`, `::notice::`,
 * `::add-mask::`, `::group::`).
 */
export function parseKeyValueFile(content: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    const eq = line.indexOf('=');
    if (heredoc && (eq === -1 || heredoc[1].length < eq)) {
      const [, name, delimiter] = heredoc;
      const body: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        if (lines[i] === delimiter) {
          closed = true;
          break;
        }
        body.push(lines[i]);
      }
      if (!closed) throw new Error(`${what}: matching delimiter not found '${delimiter}' for ${name}`);
      out[name] = body.join('\n');
    } else if (eq > 0) {
      out[line.slice(0, eq)] = line.slice(eq + 1);
    } else {
      throw new Error(`${what}: invalid format '${line}' (expected name=value or name<<DELIMITER)`);
    }
  }
  return out;
}

export function parsePathFile(content: string): string[] {
  return content
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** PATH after a step's GITHUB_PATH additions: each added directory in front, the last added first. */
export function prependPath(path: string, added: string[]): string {
  return [...[...added].reverse(), path].filter(Boolean).join(':');
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
}

/** Workflow commands in a step's output; masks collect `::add-mask::` values. */
export function scanWorkflowCommands(output: string, masks: Set<string>): Annotation[] {
  const found: Annotation[] = [];
  for (const line of output.split(/\r?\n/)) {
    const m = /^::(error|warning|notice)(?: [^:]*)?::(.*)$/.exec(line);
    if (m) found.push({ level: m[1] as Annotation['level'], message: m[2] });
    const mask = /^::add-mask::(.+)$/.exec(line);
    if (mask) masks.add(mask[1]);
  }
  return found;
}
