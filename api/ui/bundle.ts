/**
 * The pages' inline scripts, bundled from the TypeScript in `browser/` (type-checked with
 * `lib: ["dom"]` by `npm run typecheck`) when the server starts, with the esbuild tsx brings.
 * The CSP hashes are computed from exactly these bytes.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** One self-contained IIFE from `browser/<entry>`, safe to put inside a `<script>` element. */
export function bundleBrowserScript(entry: string): string {
  const path = fileURLToPath(new URL(`./browser/${entry}`, import.meta.url));
  const result = buildSync({
    entryPoints: [path],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = result.outputFiles[0].text.trimEnd();
  // esbuild escapes `</script` inside strings; a literal one left anywhere would end the element early.
  if (/<\/script|<!--/i.test(js))
    throw new Error(
      `the bundle of api/ui/browser/${entry} contains "</script" or "<!--", which would break its inline <script> element`,
    );
  return js;
}

/** A CSP source expression allowing exactly this inline text. */
export const cspHash = (text: string): string =>
  `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
