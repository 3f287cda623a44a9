/**
 * Fonts for offline chart rendering. resvg has no built-in fonts, so text only appears in the PNG
 * if a font file is on disk; DejaVu Sans (Debian package `fonts-dejavu-core`) is the one we ask
 * for everywhere, so the same inputs give the same PNG bytes on every machine that has it.
 *
 * Vega lays text out without a canvas by guessing 0.8 em per character, which leaves gaps and
 * hides axis labels that would fit; with the font file at hand we measure real advance widths.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CHART_FONT_FAMILY = 'DejaVu Sans';
export const FONT_PACKAGE_HINT =
  'install the DejaVu fonts (Debian/Ubuntu: `apt-get install -y fonts-dejavu-core`; Alpine: `apk add font-dejavu`; ' +
  'Fedora: `dnf install dejavu-sans-fonts`) or point CHART_FONT_DIR at a directory holding DejaVuSans.ttf';

/** Where distributions put DejaVu Sans. */
const DEJAVU_DIRS = [
  '/usr/share/fonts/truetype/dejavu',
  '/usr/share/fonts/dejavu',
  '/usr/share/fonts/dejavu-sans-fonts',
  '/usr/share/fonts/TTF',
  '/usr/local/share/fonts',
  '/opt/homebrew/share/fonts',
  '/Library/Fonts',
];
const SYSTEM_FONT_DIRS = [
  '/usr/share/fonts',
  '/usr/local/share/fonts',
  '/Library/Fonts',
  '/System/Library/Fonts',
  'C:\\Windows\\Fonts',
];

export interface ChartFonts {
  /** The family the chart theme asks for, when its files were found. */
  family: string;
  regular: string | null;
  bold: string | null;
  /** True when DejaVu Sans is missing and resvg falls back to whatever system fonts exist. */
  fallback: boolean;
}

let resolved: ChartFonts | undefined;

export function chartFonts(env: NodeJS.ProcessEnv = process.env): ChartFonts {
  if (resolved && env === process.env) return resolved;
  const dirs = env.CHART_FONT_DIR ? [env.CHART_FONT_DIR, ...DEJAVU_DIRS] : DEJAVU_DIRS;
  const find = (file: string) => dirs.map((d) => join(d, file)).find((p) => existsSync(p)) ?? null;
  const regular = find('DejaVuSans.ttf');
  const fonts: ChartFonts = {
    family: CHART_FONT_FAMILY,
    regular,
    bold: find('DejaVuSans-Bold.ttf'),
    fallback: regular === null,
  };
  if (fonts.fallback && !hasAnyFontFile(SYSTEM_FONT_DIRS)) {
    throw new Error(
      `no font files found for chart text (looked for DejaVuSans.ttf in ${dirs.join(', ')}); ${FONT_PACKAGE_HINT}`,
    );
  }
  if (env === process.env) resolved = fonts;
  return fonts;
}

function hasAnyFontFile(dirs: string[], depth = 3): boolean {
  for (const dir of dirs) {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.isFile() && /\.(ttf|otf|ttc)$/i.test(e.name)) return true;
      if (e.isDirectory() && depth > 0 && hasAnyFontFile([join(dir, e.name)], depth - 1)) return true;
    }
  }
  return false;
}

/** resvg font options: only the DejaVu files when present (fast, same bytes everywhere). */
export function resvgFontOptions(fonts: ChartFonts) {
  if (fonts.fallback) return { loadSystemFonts: true };
  return {
    loadSystemFonts: false,
    fontFiles: [fonts.regular, fonts.bold].filter((f): f is string => f !== null),
    defaultFontFamily: fonts.family,
    sansSerifFamily: fonts.family,
  };
}

/** Advance widths of one TrueType font, from its `cmap`, `hmtx`, `hhea` and `head` tables. */
export interface FontMetrics {
  /** Width of `text` in pixels at `fontSize`. */
  width(text: string, fontSize: number): number;
}

export function readFontMetrics(path: string): FontMetrics {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tables = new Map<string, number>();
  const numTables = view.getUint16(4);
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + i * 16;
    tables.set(buf.toString('latin1', rec, rec + 4), view.getUint32(rec + 8));
  }
  const table = (tag: string) => {
    const offset = tables.get(tag);
    if (offset === undefined) throw new Error(`${path} has no "${tag}" table; it is not a usable TrueType font`);
    return offset;
  };
  const unitsPerEm = view.getUint16(table('head') + 18);
  const numberOfHMetrics = view.getUint16(table('hhea') + 34);
  const hmtx = table('hmtx');
  const advanceOfGlyph = (glyph: number) => view.getUint16(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));
  const glyphOf = cmapLookup(view, table('cmap'));
  const cache = new Map<number, number>();
  const advance = (codePoint: number) => {
    let a = cache.get(codePoint);
    if (a === undefined) {
      a = advanceOfGlyph(glyphOf(codePoint)) / unitsPerEm;
      cache.set(codePoint, a);
    }
    return a;
  };
  return {
    width(text, fontSize) {
      let em = 0;
      for (const ch of text) em += advance(ch.codePointAt(0)!);
      return em * fontSize;
    },
  };
}

/** Unicode code point → glyph id, from a format 12 (full Unicode) or format 4 (BMP) subtable. */
function cmapLookup(view: DataView, cmap: number): (codePoint: number) => number {
  const subtables: { platform: number; encoding: number; offset: number }[] = [];
  for (let i = 0; i < view.getUint16(cmap + 2); i++) {
    const rec = cmap + 4 + i * 8;
    subtables.push({
      platform: view.getUint16(rec),
      encoding: view.getUint16(rec + 2),
      offset: cmap + view.getUint32(rec + 4),
    });
  }
  const format12 = subtables.find(
    (s) => view.getUint16(s.offset) === 12 && (s.platform === 0 || (s.platform === 3 && s.encoding === 10)),
  );
  if (format12) {
    const groups = view.getUint32(format12.offset + 12);
    return (cp) => {
      for (let g = 0; g < groups; g++) {
        const at = format12.offset + 16 + g * 12;
        const start = view.getUint32(at);
        if (cp >= start && cp <= view.getUint32(at + 4)) return view.getUint32(at + 8) + (cp - start);
      }
      return 0;
    };
  }
  const format4 = subtables.find(
    (s) => view.getUint16(s.offset) === 4 && (s.platform === 0 || (s.platform === 3 && s.encoding === 1)),
  );
  if (!format4) throw new Error('font has no Unicode cmap subtable (format 4 or 12)');
  const base = format4.offset;
  const segCount = view.getUint16(base + 6) / 2;
  const endCodes = base + 14;
  const startCodes = endCodes + 2 * segCount + 2;
  const idDeltas = startCodes + 2 * segCount;
  const idRangeOffsets = idDeltas + 2 * segCount;
  return (cp) => {
    if (cp > 0xffff) return 0;
    for (let s = 0; s < segCount; s++) {
      if (view.getUint16(endCodes + 2 * s) < cp) continue;
      const start = view.getUint16(startCodes + 2 * s);
      if (start > cp) return 0;
      const delta = view.getInt16(idDeltas + 2 * s);
      const rangeOffset = view.getUint16(idRangeOffsets + 2 * s);
      if (rangeOffset === 0) return (cp + delta) & 0xffff;
      const glyph = view.getUint16(idRangeOffsets + 2 * s + rangeOffset + 2 * (cp - start));
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}
