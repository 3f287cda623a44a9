/**
 * Vega-Lite spec → SVG (vega, no DOM, no canvas) → PNG (resvg). Entirely offline: the view gets a
 * loader that refuses every URL, so a spec can only chart the data it carries inline.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import { isPlainObject } from '../platform/objects.ts';
import { chartFonts, readFontMetrics, resvgFontOptions, type ChartFonts, type FontMetrics } from './fonts.ts';

export interface RenderedChart {
  svg: string;
  png: Uint8Array;
  /** PNG size in pixels (the SVG size times `scale`). */
  width: number;
  height: number;
  /** What vega-lite or vega warned about while compiling (kept off the console). */
  warnings: string[];
}

export interface RenderOptions {
  /** PNG pixels per SVG pixel; 2 keeps text crisp on high-density screens. */
  scale?: number;
}

/** Shared look: one font, white background, sizes readable at ~600×400. */
export function chartTheme(font: string) {
  return {
    font,
    background: 'white',
    padding: 12,
    title: { fontSize: 16, subtitleFontSize: 12, subtitleColor: '#555', anchor: 'start' as const, offset: 12 },
    axis: { labelFontSize: 12, titleFontSize: 13, titlePadding: 10, labelColor: '#333', titleColor: '#222' },
    legend: { labelFontSize: 12, titleFontSize: 12, symbolSize: 120 },
    header: { labelFontSize: 12, titleFontSize: 13 },
    view: { stroke: '#ccc' },
  };
}

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}

interface VegaTextMetrics {
  /** `text` is one line of a text mark: a string, or a datum value (number, boolean) vega prints as is. */
  width: (item: TextItem, text: string | number | boolean | null | undefined) => number;
}

let metricsInstalled = false;

/** Replace vega's 0.8-em-per-character guess with DejaVu's real advance widths (once per process). */
function installTextMetrics(fonts: ChartFonts): void {
  if (metricsInstalled || fonts.fallback || !fonts.regular) return;
  const regular = readFontMetrics(fonts.regular);
  const bold: FontMetrics = fonts.bold ? readFontMetrics(fonts.bold) : regular;
  const textMetrics = (vega as unknown as { textMetrics: VegaTextMetrics }).textMetrics;
  textMetrics.width = (item, text) => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const s = text == null ? '' : String(text).trim();
    if (size <= 0 || !s) return 0;
    const isBold = item.fontWeight === 'bold' || item.fontWeight === 'bolder' || Number(item.fontWeight) >= 600;
    const w = (isBold ? bold : regular).width(s, size);
    // Vega truncates text longer than `limit` with an ellipsis; the drawn width is then the limit.
    return item.limit && item.limit > 0 ? Math.min(w, item.limit) : w;
  };
  metricsInstalled = true;
}

/** A vega loader that fetches nothing and remembers what it was asked for. */
function offlineLoader(refused: string[]) {
  const refuse = (uri: unknown) => {
    refused.push(String(uri));
    return Promise.reject(new Error(`charts render offline; inline the data instead of loading ${String(uri)}`));
  };
  return Object.assign(vega.loader(), { load: refuse, sanitize: refuse, http: refuse, file: refuse });
}

/** Render a Vega-Lite spec; the chart theme is merged under the spec's own `config`. */
export async function renderVegaLite(spec: TopLevelSpec, options: RenderOptions = {}): Promise<RenderedChart> {
  const fonts = chartFonts();
  installTextMetrics(fonts);
  const themed = {
    ...spec,
    config: deepMerge(chartTheme(fonts.family), (spec as { config?: object }).config ?? {}),
  } as TopLevelSpec;
  const warnings: string[] = [];
  const logger = quietLogger(warnings);
  const vg = compile(themed, { logger }).spec;
  // Clip-path and gradient ids come from a module counter; reset it so the same spec gives the same SVG.
  (vega as unknown as { resetSVGDefIds: () => void }).resetSVGDefIds();
  const refused: string[] = [];
  const view = new vega.View(vega.parse(vg), {
    renderer: 'none',
    loader: offlineLoader(refused) as unknown as vega.Loader,
    logger,
  });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  // Vega only logs a failed load and draws an empty chart; an empty chart in a report is a bug.
  if (refused.length)
    throw new Error(
      `charts render offline and take inline data only (\`data: { values }\`); the spec asked to load ${refused.join(', ')}`,
    );
  const scale = options.scale ?? 2;
  const image = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: resvgFontOptions(fonts),
    logLevel: 'off',
  }).render();
  return { svg, png: new Uint8Array(image.asPng()), width: image.width, height: image.height, warnings };
}

/** A vega logger that keeps warnings instead of printing them to the console. */
function quietLogger(sink: string[]) {
  const base = vega.logger(vega.Warn);
  const keep = (...args: unknown[]) => {
    sink.push(args.map(String).join(' '));
    return base;
  };
  return Object.assign(base, { warn: keep, info: () => base, debug: () => base });
}

function deepMerge(base: object, over: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}
