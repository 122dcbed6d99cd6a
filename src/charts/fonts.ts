/**
 * The bundled DejaVu fonts (assets/fonts/, the two faces charts use), measured from their own tables, so charts
 * never depend on whatever fonts the host happens to have installed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The family name charts use; it is the name inside the bundled TTF files. */
export const CHART_FONT_FAMILY = 'DejaVu Sans';

/** Advance widths of one font face, parsed from its `cmap`, `hmtx`, `hhea` and `head` tables. */
export interface FontMetrics {
  /** Width in pixels of `text` set at `fontSize` px, without kerning (so a slight overestimate). */
  measure(text: string, fontSize: number): number;
}

/** The bundled font files and their metrics, loaded once per process. */
export interface ChartFonts {
  regularPath: string;
  boldPath: string;
  regular: FontMetrics;
  bold: FontMetrics;
}

let cached: ChartFonts | undefined;

/**
 * Resolves and parses the DejaVu TTFs once per process.
 * resvg-js 2 has no handle on a parsed font database that could be reused between renders, so what is cached
 * here is the paths (resvg memory-maps the files, about 2 ms a render) and our own metrics.
 */
export function loadChartFonts(): ChartFonts {
  if (cached) return cached;
  const dir = fontsDirectory();
  const regularPath = join(dir, 'DejaVuSans.ttf');
  const boldPath = join(dir, 'DejaVuSans-Bold.ttf');
  const fonts: ChartFonts = {
    regularPath,
    boldPath,
    regular: parseFontMetrics(readFileSync(regularPath)),
    bold: parseFontMetrics(readFileSync(boldPath)),
  };
  cached = fonts;
  return fonts;
}

/**
 * assets/fonts/ at the package root, found upwards from this module: it runs from src/charts/ (tsx, tests) and
 * from dist/src/charts/ (the build), at different depths.
 */
function fontsDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'assets', 'fonts');
    if (existsSync(join(candidate, 'DejaVuSans.ttf'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('the chart fonts (assets/fonts/DejaVuSans.ttf) are missing from the package');
    dir = parent;
  }
}

let installed = false;

/**
 * Makes Vega lay text out with the bundled fonts' real widths; idempotent. Vega is passed in by the renderer,
 * which loads it only when a chart is drawn (it is hundreds of modules, too many for every CLI start).
 */
export function useChartFontsInVega(vega: unknown): ChartFonts {
  const fonts = loadChartFonts();
  if (!installed) {
    installVegaTextMetrics(vega, fonts);
    installed = true;
  }
  return fonts;
}

interface VegaTextItem {
  text?: unknown;
  fontSize?: number | string;
  fontWeight?: number | string;
  limit?: number;
}

interface VegaTextMetrics {
  width: (item: VegaTextItem, text?: unknown) => number;
}

/**
 * Without a canvas Vega guesses every glyph is 0.8 em wide, which wastes space and truncates labels early;
 * Vega supports replacing `textMetrics.width` (vl-convert does the same), so layout uses the real font.
 */
function installVegaTextMetrics(vega: unknown, fonts: ChartFonts): void {
  const metrics = (vega as { textMetrics: VegaTextMetrics }).textMetrics;
  metrics.width = (item, text) => {
    const raw = text ?? item.text;
    const value = (Array.isArray(raw) ? raw.join(' ') : raw == null ? '' : String(raw)).trim();
    const size = item.fontSize == null ? 11 : Number(item.fontSize) || 0;
    if (!value || size <= 0) return 0;
    const face = isBold(item.fontWeight) ? fonts.bold : fonts.regular;
    const width = face.measure(value, size);
    // Vega truncates to `limit` when it draws; reporting the truncated width keeps layout bounds honest
    // (the truncation search only compares with `<`, so capping at the limit cannot loop).
    return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
  };
}

function isBold(weight: number | string | undefined): boolean {
  if (weight == null) return false;
  if (typeof weight === 'number') return weight >= 600;
  return weight === 'bold' || weight === 'bolder' || Number(weight) >= 600;
}

/** Parses the advance widths of a TrueType font: enough to measure a line of text. */
export function parseFontMetrics(font: Buffer): FontMetrics {
  const tables = new Map<string, number>();
  const numTables = font.readUInt16BE(4);
  for (let i = 0; i < numTables; i++) {
    const record = 12 + i * 16;
    tables.set(font.toString('latin1', record, record + 4), font.readUInt32BE(record + 8));
  }
  const table = (tag: string): number => {
    const offset = tables.get(tag);
    if (offset === undefined) throw new Error(`font has no ${tag} table`);
    return offset;
  };
  const unitsPerEm = font.readUInt16BE(table('head') + 18);
  const numberOfHMetrics = font.readUInt16BE(table('hhea') + 34);
  const hmtx = table('hmtx');
  const advanceOfGlyph = (glyph: number): number =>
    font.readUInt16BE(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));
  const glyphOf = parseCmap(font, table('cmap'));

  const widths = new Map<number, number>();
  const advance = (codePoint: number): number => {
    let width = widths.get(codePoint);
    if (width === undefined) {
      width = advanceOfGlyph(glyphOf(codePoint)) / unitsPerEm;
      widths.set(codePoint, width);
    }
    return width;
  };
  return {
    measure(text, fontSize) {
      let ems = 0;
      for (const char of text) ems += advance(char.codePointAt(0) ?? 0);
      return ems * fontSize;
    },
  };
}

/** Returns a code point -> glyph id lookup from the best Unicode subtable (format 12, else format 4). */
function parseCmap(font: Buffer, cmap: number): (codePoint: number) => number {
  const count = font.readUInt16BE(cmap + 2);
  let format4: number | undefined;
  let format12: number | undefined;
  for (let i = 0; i < count; i++) {
    const record = cmap + 4 + i * 8;
    const platform = font.readUInt16BE(record);
    const encoding = font.readUInt16BE(record + 2);
    const subtable = cmap + font.readUInt32BE(record + 4);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    const format = font.readUInt16BE(subtable);
    if (format === 12) format12 ??= subtable;
    if (format === 4) format4 ??= subtable;
  }
  if (format12 !== undefined) {
    const table = format12;
    const groups = font.readUInt32BE(table + 12);
    return (codePoint) => {
      let lo = 0;
      let hi = groups - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const group = table + 16 + mid * 12;
        const start = font.readUInt32BE(group);
        const end = font.readUInt32BE(group + 4);
        if (codePoint < start) hi = mid - 1;
        else if (codePoint > end) lo = mid + 1;
        else return font.readUInt32BE(group + 8) + (codePoint - start);
      }
      return 0;
    };
  }
  if (format4 !== undefined) {
    const table = format4;
    const segCount = font.readUInt16BE(table + 6) / 2;
    const endCodes = table + 14;
    const startCodes = endCodes + segCount * 2 + 2;
    const idDeltas = startCodes + segCount * 2;
    const idRangeOffsets = idDeltas + segCount * 2;
    return (codePoint) => {
      if (codePoint > 0xffff) return 0;
      for (let i = 0; i < segCount; i++) {
        if (codePoint > font.readUInt16BE(endCodes + i * 2)) continue;
        const start = font.readUInt16BE(startCodes + i * 2);
        if (codePoint < start) return 0;
        const delta = font.readUInt16BE(idDeltas + i * 2);
        const rangeOffsetAt = idRangeOffsets + i * 2;
        const rangeOffset = font.readUInt16BE(rangeOffsetAt);
        if (rangeOffset === 0) return (codePoint + delta) & 0xffff;
        const glyph = font.readUInt16BE(rangeOffsetAt + rangeOffset + (codePoint - start) * 2);
        return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
      }
      return 0;
    };
  }
  throw new Error('font has no Unicode cmap subtable');
}
