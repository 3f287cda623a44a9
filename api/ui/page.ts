import { bundleBrowserScript, cspHash } from './bundle.ts';
import { UI_STYLE } from './style.ts';

/** The page's one inline script: `browser/predict.ts` and what it imports, bundled. */
export const UI_SCRIPT = bundleBrowserScript('predict.ts');

export interface IndexPageOptions {
  /** The model the page describes (`GET /v1/models/<name>`) and predicts with (`POST /predict`). */
  modelName: string;
  /** Prefix of the API's routes when it is mounted below the origin's root, e.g. `/api`. */
  basePath?: string;
}

/**
 * A Content-Security-Policy that fits the page exactly: its one inline script and stylesheet are
 * allowed by hash, everything else only from the same origin. Send it with the HTML; it assumes
 * `basePath` is on the same origin.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${cspHash(UI_SCRIPT)}`,
  `style-src ${cspHash(UI_STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);

/** JSON that cannot close the script element it sits in, nor open a comment there. */
const jsonForScript = (value: unknown) =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

export function normalizeBasePath(basePath: string | undefined): string {
  const trimmed = (basePath ?? '').trim().replace(/\/+$/, '');
  if (trimmed === '' || /^https?:\/\//i.test(trimmed)) return trimmed;
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/**
 * The web UI: one self-contained HTML document (inline CSS and JS, no CDN, works offline). The
 * browser builds the form from the model's own description, so the page never goes stale when
 * a new version with other inputs is promoted.
 */
export function renderIndexHtml(opts: IndexPageOptions): string {
  if (!opts.modelName) throw new Error('renderIndexHtml needs a modelName: the model the page predicts with');
  const basePath = normalizeBasePath(opts.basePath);
  const name = escapeHtml(opts.modelName);
  const href = (path: string) => escapeHtml(basePath + path);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name} · predictions</title>
<link rel="icon" href="data:,">
<style>${UI_STYLE}</style>
</head>
<body>
<header class="top">
  <div class="wrap">
    <div>
      <div class="title">
        <h1 id="model-name">${name}</h1>
        <span class="badge version" id="model-version" title="version currently served" hidden></span>
        <span class="badge" id="model-stage" title="registry stage"></span>
        <span class="badge warn" id="model-ready" hidden>not ready</span>
      </div>
      <div class="meta" id="model-meta">Loading model description…</div>
    </div>
    <nav class="links" aria-label="Service links">
      <a href="${href('/openapi.json')}">OpenAPI</a>
      <a href="${href('/metrics')}">Metrics</a>
    </nav>
  </div>
</header>
<main class="wrap">
  <section class="card" aria-labelledby="form-title">
    <h2 id="form-title">Inputs</h2>
    <form id="form" novalidate>
      <div class="fields" id="fields"><p class="placeholder">Loading model…</p></div>
      <details class="token" id="token-box">
        <summary>Access token (optional)</summary>
        <div class="token">
          <label for="token">Bearer token, sent only with this request and never stored</label>
          <input id="token" type="password" autocomplete="off" spellcheck="false">
        </div>
      </details>
      <div class="actions">
        <button type="submit" class="primary" id="predict" disabled>Predict</button>
        <button type="button" id="reset" disabled>Reset to defaults</button>
      </div>
    </form>
  </section>
  <div class="side">
    <section class="card" aria-labelledby="result-title">
      <h2 id="result-title">Result</h2>
      <div id="result" aria-live="polite" aria-atomic="true">
        <p class="placeholder">Adjust the inputs and press <strong>Predict</strong> (or Enter).</p>
      </div>
    </section>
    <section class="card" id="history-card" aria-labelledby="history-title" hidden>
      <h2 id="history-title">Last predictions</h2>
      <ol class="history" id="history"></ol>
    </section>
  </div>
</main>
<footer>Input dates and times are UTC. The server checks every input; this page stores nothing you type.</footer>
<script type="application/json" id="ui-config">${jsonForScript({ modelName: opts.modelName, basePath })}</script>
<script>${UI_SCRIPT}</script>
</body>
</html>
`;
}
