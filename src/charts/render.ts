/**
 * Vega-Lite -> SVG -> PNG on this machine: no browser, no network, no system fonts, same bytes for same data.
 */
import type * as VegaModule from 'vega';
import type { Logger } from '../logger.ts';
import { CHART_FONT_FAMILY, useChartFontsInVega } from './fonts.ts';
import type { ChartSpec, RenderedChart } from './types.ts';

/** Options for `renderChart`. */
export interface RenderOptions {
  /** Receives Vega-Lite and Vega warnings (e.g. a dropped encoding) at debug level. */
  logger?: Logger;
}

/** Renders a chart spec to a PNG of `spec.width` pixels wide (the height follows the spec, 675 by default). */
export async function renderChart(spec: ChartSpec, options: RenderOptions = {}): Promise<RenderedChart> {
  const { renderAsync } = await import('@resvg/resvg-js');
  const svg = await renderSvg(spec, options);
  const fonts = useChartFontsInVega(await import('vega'));
  const image = await renderAsync(svg, {
    font: {
      fontFiles: [fonts.regularPath, fonts.boldPath],
      loadSystemFonts: false,
      defaultFontFamily: CHART_FONT_FAMILY,
      sansSerifFamily: CHART_FONT_FAMILY,
    },
    fitTo: { mode: 'width', value: spec.width },
    background: 'white',
    logLevel: 'off',
  });
  return {
    name: spec.name,
    png: image.asPng(),
    width: image.width,
    height: image.height,
    alt: spec.alt,
    title: spec.title,
    caption: spec.caption,
  };
}

/** The SVG step alone, with element ids renumbered so identical data gives identical markup. */
export async function renderSvg(spec: ChartSpec, options: RenderOptions = {}): Promise<string> {
  // Vega, Vega-Lite and resvg are loaded on the first chart: they are most of a cold start's modules.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  useChartFontsInVega(vega);
  const warnings = collectingLogger(vega, options.logger);
  const compiled = compile(spec.vegaLite, { logger: warnings as never }).spec;
  const view = new vega.View(vega.parse(compiled), {
    renderer: 'none',
    loader: offlineLoader(vega),
    logger: warnings as never,
    logLevel: vega.Warn,
  });
  try {
    return normaliseSvgIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * Vega numbers clip paths and gradients from process-wide counters, so the second render of the same chart
 * would say `clip7` where the first said `clip1`; renumber in order of appearance instead.
 */
export function normaliseSvgIds(svg: string): string {
  const ids = new Map<string, string>();
  for (const match of svg.matchAll(/\sid="([^"]+)"/g)) {
    const id = match[1];
    if (id !== undefined && !ids.has(id)) ids.set(id, `d${ids.size}`);
  }
  if (ids.size === 0) return svg;
  return svg.replace(/(\sid="|url\(#|href="#)([^")]+)/g, (whole, prefix: string, id: string) => {
    const renamed = ids.get(id);
    return renamed === undefined ? whole : `${prefix}${renamed}`;
  });
}

/** Charts carry their data inline; any attempt to load a URL is a bug, not something to allow. */
function offlineLoader(vega: typeof VegaModule): VegaModule.Loader {
  const refuse = (uri: unknown) => Promise.reject(new Error(`charts render offline; refused to load ${uri}`));
  return {
    ...vega.loader(),
    load: refuse,
    sanitize: refuse,
    http: refuse,
    file: refuse,
  } as VegaModule.Loader;
}

interface WarningSink {
  level(level?: number): WarningSink | number;
  error(...args: unknown[]): WarningSink;
  warn(...args: unknown[]): WarningSink;
  info(...args: unknown[]): WarningSink;
  debug(...args: unknown[]): WarningSink;
}

/** Vega and Vega-Lite log to the console by default; route their warnings to our logger instead. */
function collectingLogger(vega: typeof VegaModule, logger: Logger | undefined): WarningSink {
  let level = vega.Warn;
  const sink: WarningSink = {
    level(next?: number) {
      if (next === undefined) return level;
      level = next;
      return sink;
    },
    error: (...args) => {
      logger?.warn('chart render error', { detail: args.map(String).join(' ') });
      return sink;
    },
    warn: (...args) => {
      logger?.debug('chart render warning', { detail: args.map(String).join(' ') });
      return sink;
    },
    info: () => sink,
    debug: () => sink,
  };
  return sink;
}
