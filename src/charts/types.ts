/** Plain-data shapes for charts: what the builders take and what the renderer returns. */
import type { TopLevelSpec } from 'vega-lite';

/** A chart ready to render: a Vega-Lite spec plus the words that go with it. */
export interface ChartSpec {
  /** Short kebab-case kind, e.g. `segment-sizes`; used in file names. */
  name: string;
  title: string;
  /** One line, drawn under the title and reusable as message text. */
  caption: string;
  /** Screen-reader description with the numbers, at most 1,000 characters (Slack's limit). */
  alt: string;
  /** Output size in pixels. */
  width: number;
  height: number;
  /** Self-contained (inline data, theme included). */
  vegaLite: TopLevelSpec;
}

/** A rendered chart: PNG bytes and the texts that should travel with it. */
export interface RenderedChart {
  name: string;
  png: Buffer;
  width: number;
  height: number;
  alt: string;
  title: string;
  caption: string;
}

/** Segment sizes for one week (`weekStart` in epoch ms, UTC). */
export interface SegmentWeek {
  weekStart: number;
  segments: Array<{ name: string; size: number }>;
}

/** One segment placed on two numeric axes; `size` is its member count. */
export interface SegmentPoint {
  name: string;
  x: number;
  y: number;
  size: number;
}

/** The outcome of uploading a chart or file to Slack: a file id, or a one-line reason. */
export type UploadChartResult = { ok: true; fileId: string } | { ok: false; error: string };
