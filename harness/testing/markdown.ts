/** Reading Markdown the way GitHub renders it, for the tests that keep the docs true. */

/** The lines of `text` outside fenced code blocks, with their 1-based numbers. */
export function proseLines(text: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  let fence: string | null = null;
  text.split('\n').forEach((l, i) => {
    const open = /^\s*(```|~~~)/.exec(l);
    if (open) {
      if (fence === null) fence = open[1]!;
      else if (l.trim().startsWith(fence)) fence = null;
      return;
    }
    if (fence === null) out.push({ text: l, line: i + 1 });
  });
  return out;
}

/** Link and image targets (`[text](target)`, `![alt](target)`) outside code, with their line. */
export function markdownLinks(text: string): Array<{ target: string; line: number }> {
  const links: Array<{ target: string; line: number }> = [];
  for (const { text: l, line } of proseLines(text)) {
    // Inline code spans are literal text, not links.
    const prose = l.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push({ target: m[1], line });
  }
  return links;
}

/**
 * The anchors GitHub gives the headings of a Markdown file: lower case, punctuation dropped,
 * spaces as hyphens, and `-1`, `-2`… for repeats.
 */
export function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const { text: l } of proseLines(text)) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (!h) continue;
    const base = h[1]
      .replace(/<[^>]+>/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}
