/**
 * `GET /monitoring`: reference vs current distribution per feature, drift scores over time, and
 * live quality from feedback. Self-contained (inline SVG drawn by the bundled `browser/monitoring.ts`,
 * no CDN); the data comes from `GET /drift` and `GET /feedback`, refreshed every 10 s.
 */
import { bundleBrowserScript, cspHash } from './bundle.ts';
import { escapeHtml } from './page.ts';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f8;color:#1d2433}
header{background:#fff;border-bottom:1px solid #dde1e8;padding:14px 24px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
h1{font-size:20px;margin:0} .muted{color:#5b6577} main{padding:16px 24px;display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:16px}
.card{background:#fff;border:1px solid #dde1e8;border-radius:10px;padding:12px 14px} .card h2{font-size:15px;margin:0 0 6px;display:flex;justify-content:space-between}
.badge{font-size:12px;padding:2px 8px;border-radius:10px;background:#e6f4ea;color:#1e6b35} .badge.drift{background:#fde8e8;color:#a61b1b}
.summary{display:flex;gap:18px;flex-wrap:wrap} .summary b{font-size:18px} svg text{font-size:10px;fill:#5b6577} .legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
details.token summary{cursor:pointer;color:#5b6577} .token label{display:block;font-size:12px;margin:6px 0 3px} .token input{padding:5px 8px;font:inherit;border:1px solid #dde1e8;border-radius:6px;width:22em}
`;

/** The page's one inline script: `browser/monitoring.ts`, bundled. */
const SCRIPT = bundleBrowserScript('monitoring.ts');

export const MONITORING_CSP = [
  "default-src 'none'",
  `script-src ${cspHash(SCRIPT)}`,
  `style-src ${cspHash(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function renderMonitoringHtml(opts: { modelName: string }): string {
  const name = escapeHtml(opts.modelName);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${name} monitoring</title><style>${STYLE}</style></head>
<body><header><h1>${name} <span id="version" class="muted"></span></h1><div class="summary"><div>window <b id="window">–</b></div><div><b id="share">–</b></div><div>live quality: <span id="live">–</span></div></div><div><a href="/">try the model</a> · <a href="/drift">/drift</a> · <a href="/metrics">/metrics</a></div><details class="token" id="token-box"><summary>Access token (when the server sets API_TOKENS)</summary><label for="token">Bearer token, sent with this page's reads and never stored</label><input id="token" type="password" autocomplete="off" spellcheck="false"></details><p class="muted" id="scope">This replica only: it shows the traffic and labels the load balancer sent here. The fleet's live quality and drift are the Prometheus rules fleet:model_live_quality and fleet:model_drift_score, on the Grafana dashboard gitops-ml-model.</p></header>
<main></main><script>${SCRIPT}</script></body></html>`;
}
