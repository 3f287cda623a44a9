/**
 * Charts of one report: each is rendered once, kept as `report/<name>.png` (relative to
 * report.md, which is how `cml comment create` finds and uploads images) and shown with its text
 * table folded underneath. A chart that fails to render leaves its table and a note, not a
 * broken report.
 */
import { details } from '../../core/charts/markdown.ts';
import type { Chart } from '../../core/charts/index.ts';
import type { Logger } from '../../core/platform/log.ts';

import { REPORT_ASSET_DIR_NAME as ASSET_DIR_NAME } from '../contracts/paths.ts';

export interface RenderTiming {
  name: string;
  ms: number;
}

export class ReportCharts {
  readonly files = new Map<string, Uint8Array>();
  readonly timings: RenderTiming[] = [];
  private readonly used = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** Markdown for one chart: the image, then its table in a collapsible section. */
  async add(
    name: string,
    alt: string,
    render: () => Promise<Chart>,
    table: string,
    tableSummary = `${alt} as a table`,
  ): Promise<string> {
    const file = this.uniqueName(name);
    const started = performance.now();
    let image: string;
    try {
      const chart = await render();
      this.files.set(file, chart.png);
      image = `![${alt.replace(/[[\]]/g, '')}](${ASSET_DIR_NAME}/${file})`;
      for (const w of chart.warnings) this.log.debug(`chart ${file}: ${w}`);
    } catch (err) {
      this.log.warn(`chart ${file} could not be rendered: ${(err as Error).message}`);
      image = `_The ${alt} chart could not be rendered (${(err as Error).message.split('\n')[0]}); its data is in the table below._`;
    }
    this.timings.push({ name: file, ms: Math.round(performance.now() - started) });
    return `${image}\n\n${details(tableSummary, table)}`;
  }

  private uniqueName(name: string): string {
    const base = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'chart';
    let file = `${base}.png`;
    for (let i = 2; this.used.has(file); i++) file = `${base}-${i}.png`;
    this.used.add(file);
    return file;
  }
}
