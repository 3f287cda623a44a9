/**
 * Stage `report`: `metrics/report.md`, one page that GitHub renders and `cml comment create`
 * accepts (images are relative links `report/<name>.png`, which CML uploads), plus those PNGs in
 * `metrics/report/`. Built only from the JSON other stages wrote; `metrics/evaluate.json` is
 * required, any other missing input turns into a sentence in its section. Same inputs give the
 * same bytes (no clock, no locale), so DVC sees no change when nothing changed.
 */
import { join } from 'node:path';
import { replaceDirAtomic, writeFileAtomic } from '../../core/platform/atomic.ts';
import { chartFonts, FONT_PACKAGE_HINT } from '../../core/charts/index.ts';
import type { Logger } from '../../core/platform/log.ts';
import { ReportCharts } from '../report/assets.ts';
import { dataDriftSection, dataSection, featureSection, leaderboardSection } from '../report/data-sections.ts';
import { headlineRows, headlineTable } from '../report/headline.ts';
import { loadReportInputs, type ReportInputs } from '../report/inputs.ts';
import {
  edgeCaseSection,
  gatesSection,
  REPORT_MARKER,
  testChartsSection,
  titleSection,
} from '../report/model-sections.ts';
import { REPORT_ASSETS, REPORT_FILE } from '../contracts/paths.ts';
import { reportStage } from '../contracts/report.ts';
import { isMain, runStage } from '../stage-cli.ts';

export { REPORT_MARKER } from '../report/model-sections.ts';
export { REPORT_ASSETS, REPORT_FILE } from '../contracts/paths.ts';

export interface ReportResult {
  markdown: string;
  /** PNG bytes by file name (inside `metrics/report/`). */
  charts: Map<string, Uint8Array>;
  timings: { name: string; ms: number }[];
}

/** Assemble the page from loaded inputs (renders the charts, writes nothing). */
export async function buildReport(inputs: ReportInputs, log: Logger): Promise<ReportResult> {
  const charts = new ReportCharts(log);
  const ev = inputs.evaluate;
  const sections = [
    REPORT_MARKER,
    titleSection(ev, inputs.register),
    ['## Headline', '', headlineTable(headlineRows(ev, inputs.register), inputs.register)].join('\n'),
    gatesSection(inputs.register),
    await testChartsSection(inputs, charts),
    dataSection(inputs),
    dataDriftSection(inputs),
    await featureSection(inputs, charts),
    leaderboardSection(inputs),
    edgeCaseSection(ev),
  ];
  // Input text (edge-case details, reasons) can carry control characters; they would make git treat report.md as binary.
  const markdown = (sections.join('\n\n') + '\n').replace(
    // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are escaped so git keeps report.md text
    /[\u0000-\u0008\u000b-\u001f\u007f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return { markdown, charts: charts.files, timings: charts.timings };
}

export async function report(options: { repoRoot: string; log: Logger }): Promise<ReportResult> {
  const { repoRoot, log } = options;
  const fonts = chartFonts();
  if (fonts.fallback)
    log.warn(
      `DejaVu Sans not found; chart text uses whatever system font resvg finds, so PNG bytes differ between machines. To fix: ${FONT_PACKAGE_HINT}`,
    );
  const inputs = await loadReportInputs(repoRoot);
  const result = await buildReport(inputs, log);
  // The directory is replaced as a whole, so charts of a previous run (a dropped feature) do not linger.
  await replaceDirAtomic(join(repoRoot, REPORT_ASSETS), async (dir) => {
    for (const [name, png] of result.charts) await writeFileAtomic(join(dir, name), png);
  });
  await writeFileAtomic(join(repoRoot, REPORT_FILE), result.markdown);
  const total = result.timings.reduce((s, t) => s + t.ms, 0);
  log.info(`wrote ${REPORT_FILE} and ${result.charts.size} charts in ${REPORT_ASSETS}/ (rendering ${total} ms)`, {
    charts: Object.fromEntries(result.timings.map((t) => [t.name, t.ms])),
  });
  return result;
}

if (isMain(import.meta.url)) {
  await runStage(reportStage, report);
}
