/**
 * The monitoring page's script (`GET /monitoring`): reference vs current distribution per feature
 * as inline SVG, drift scores over time and live quality, from `GET /drift` and `GET /feedback`,
 * refreshed every 10 s. Bundled by esbuild into the page's one inline script (see ../bundle.ts).
 */

import { tickLabel } from './ticks.ts';

interface DriftFeature {
  name: string;
  drifted: boolean;
  result: { method: string; score: number; threshold: number } | null;
  labels: (string | number)[];
  reference: number[];
  current: number[];
  n: number;
  missing: number;
  unseen_total: number;
  out_of_range_total: number;
}

interface DriftAnswer {
  model_version: number | null;
  /** The version being served now (model_version is the one the windows hold, null before traffic). */
  served_model_version?: number | null;
  window: number;
  window_size: number;
  dataset: { drift_share?: number; drifted?: boolean };
  features: DriftFeature[];
  history?: { scores: Record<string, number | undefined> }[];
}

interface FeedbackAnswer {
  live: (Record<string, unknown> & { n: number }) | null;
}

const HTML = 'http://www.w3.org/1999/xhtml';
const SVG = 'http://www.w3.org/2000/svg';
const HTML_TAGS = new Set(['div', 'span', 'h2', 'b']);

const $ = (selector: string): HTMLElement => {
  const node = document.querySelector<HTMLElement>(selector);
  if (!node) throw new Error(`the page has no ${selector}`);
  return node;
};

function el(tag: string, attrs: Record<string, string | number> = {}, text?: string): Element {
  const e = document.createElementNS(HTML_TAGS.has(tag) ? HTML : SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const isNumericBins = (labels: (string | number)[]) => labels.length > 0 && String(labels[0]).includes('–');

function bars(labels: (string | number)[], ref: number[], cur: number[]): Element {
  const W = 360,
    H = 120,
    n = labels.length;
  const sr = ref.reduce((a, b) => a + b, 0) || 1,
    sc = cur.reduce((a, b) => a + b, 0) || 1;
  const r = ref.map((v) => v / sr),
    c = cur.map((v) => v / sc);
  const max = Math.max(...r, ...c, 0.01);
  const svg = el('svg', { viewBox: '0 0 ' + W + ' ' + (H + 30), width: '100%' });
  const bw = (W - 20) / n;
  labels.forEach((l, i) => {
    const x = 10 + i * bw;
    const hr = (H * r[i]) / max,
      hc = (H * c[i]) / max;
    svg.append(el('rect', { x: x + 1, y: H - hr, width: Math.max(1, bw / 2 - 1), height: hr, fill: '#4c78a8' }));
    svg.append(el('rect', { x: x + bw / 2, y: H - hc, width: Math.max(1, bw / 2 - 1), height: hc, fill: '#f58518' }));
    // The first tick starts at the chart's left edge instead of centring on it (it was cut off there).
    if (i % Math.max(1, Math.ceil(n / (isNumericBins(labels) ? 6 : 13))) === 0)
      svg.append(
        el(
          'text',
          { x: i === 0 ? x : x + bw / 2, y: H + 12, 'text-anchor': i === 0 ? 'start' : 'middle' },
          tickLabel(l, isNumericBins(labels)),
        ),
      );
  });
  svg.append(el('text', { x: 10, y: H + 26 }, 'share of rows: reference (blue) vs current window (orange)'));
  return svg;
}

function spark(points: { score: number }[], threshold: number): Element {
  const W = 360,
    H = 40;
  const svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%' });
  if (points.length < 2) return svg;
  const max = Math.max(threshold * 1.5, ...points.map((p) => p.score));
  const x = (i: number) => (i * (W - 10)) / (points.length - 1) + 5,
    y = (v: number) => H - 4 - ((H - 8) * v) / max;
  svg.append(
    el('line', { x1: 0, x2: W, y1: y(threshold), y2: y(threshold), stroke: '#a61b1b', 'stroke-dasharray': '4 3' }),
  );
  svg.append(
    el('polyline', {
      points: points.map((p, i) => x(i) + ',' + y(p.score)).join(' '),
      fill: 'none',
      stroke: '#1d2433',
      'stroke-width': 1.5,
    }),
  );
  return svg;
}

const tokenInput = () => document.getElementById('token') as HTMLInputElement | null;

async function get<T>(url: string): Promise<T> {
  const token = tokenInput()?.value.trim();
  const r = await fetch(url, token ? { headers: { authorization: 'Bearer ' + token } } : {});
  if (r.status === 401 || r.status === 403) {
    (document.getElementById('token-box') as HTMLDetailsElement | null)?.setAttribute('open', '');
    throw new Error(
      r.status === 401
        ? 'it needs a token: enter one under "Access token" (this server sets API_TOKENS; PUBLIC_MONITORING=on opens monitoring reads)'
        : 'this token may not read monitoring: enter one of API_TOKENS or the ADMIN_TOKEN under "Access token"',
    );
  }
  return (await r.json()) as T;
}

function featureCard(ft: DriftFeature, history: DriftAnswer['history']): Element {
  const card = el('div', { class: 'card' });
  const h = el('h2');
  h.append(el('span', {}, ft.name));
  h.append(
    el(
      'span',
      { class: 'badge' + (ft.drifted ? ' drift' : '') },
      ft.result
        ? ft.result.method + ' ' + ft.result.score.toFixed(3) + (ft.drifted ? ' drift' : ' ok')
        : 'waiting for data',
    ),
  );
  card.append(h);
  card.append(bars(ft.labels, ft.reference, ft.current));
  card.append(
    spark(
      (history || []).map((x) => ({ score: x.scores[ft.name] ?? 0 })),
      ft.result ? ft.result.threshold : 0.1,
    ),
  );
  card.append(
    el(
      'div',
      { class: 'muted' },
      'n ' +
        ft.n +
        ' · missing ' +
        ft.missing +
        ' · unseen ' +
        ft.unseen_total +
        ' · out of range ' +
        ft.out_of_range_total,
    ),
  );
  return card;
}

async function refresh(): Promise<void> {
  try {
    const d = await get<DriftAnswer>('drift');
    const f = await get<FeedbackAnswer>('feedback');
    const served = d.served_model_version ?? null;
    $('#version').textContent =
      d.model_version !== null
        ? 'v' + d.model_version
        : served !== null && served !== undefined
          ? 'v' + served + ' (no traffic yet)'
          : 'no model loaded yet';
    $('#window').textContent = d.window + ' / ' + d.window_size;
    $('#share').textContent =
      (100 * (d.dataset.drift_share || 0)).toFixed(0) +
      '% of features drifted' +
      (d.dataset.drifted ? ' — DATASET DRIFT' : '');
    $('#live').textContent = f.live
      ? Object.entries(f.live)
          .filter(([k, v]) => typeof v === 'number' && k !== 'n')
          .map(([k, v]) => k + ' ' + (v as number).toFixed(3))
          .join(' · ') +
        ' (n=' +
        f.live.n +
        ')'
      : 'no feedback yet';
    $('main').replaceChildren(...d.features.map((ft) => featureCard(ft, d.history)));
  } catch (e) {
    $('#share').textContent = 'cannot load /drift: ' + (e as Error).message;
  }
}

void refresh();
setInterval(() => void refresh(), 10000);
tokenInput()?.addEventListener('change', () => void refresh());
