/**
 * The segmentation's allowed range and defaults, written once: the engine validates against them, and the
 * `segments` command, the digest options, the cached queries and the usage texts read them from here.
 */

/** The numbers of segments anyone may ask for (inclusive). */
export const K_RANGE: Readonly<{ min: number; max: number }> = Object.freeze({ min: 2, max: 12 });

/** The column scalings k-means can run on. */
export const SCALINGS = ['zscore', 'log-zscore', 'none'] as const;

/** One of `SCALINGS`. */
export type Scaling = (typeof SCALINGS)[number];

/** What a segmentation uses when the request leaves it open. */
export const SEGMENT_DEFAULTS: Readonly<{
  scaling: Scaling;
  seed: number;
  /** The k searched by k=auto. */
  autoRange: readonly [number, number];
  /**
   * k=auto takes the fewest segments whose silhouette is within this of the best: differences that small are
   * within the noise of the 2,000-row sample it is measured on, and flipped the sample's k between 5 and 6 with
   * the instant it was generated at.
   */
  autoTolerance: number;
  /** k-means++ restarts on audiences of `smallRows` profiles or more; the lowest within-cluster sum of squares wins. */
  restarts: number;
  /**
   * Restarts below `smallRows` profiles, each refined by Hartigan point moves: small tables have poor local
   * minima that a few Lloyd runs land in, and there every run is cheap.
   */
  smallRestarts: number;
  /** Audiences below this many profiles get `smallRestarts` and the point-move refinement. */
  smallRows: number;
  /** Above this many profiles, fit on a seeded sample of this size, then assign everyone. */
  sampleSize: number;
}> = Object.freeze({
  scaling: 'zscore',
  seed: 1,
  autoRange: Object.freeze([2, 8] as const),
  autoTolerance: 0.01,
  restarts: 5,
  smallRestarts: 50,
  smallRows: 10_000,
  sampleSize: 50_000,
});

/** Whether `k` is a whole number inside `K_RANGE`. */
export function isAllowedK(k: number): boolean {
  return Number.isInteger(k) && k >= K_RANGE.min && k <= K_RANGE.max;
}

/** Whether `text` names one of `SCALINGS`. */
export function isScaling(text: string): text is Scaling {
  return (SCALINGS as readonly string[]).includes(text);
}

/** `2..12`, for usage lines. */
export const K_RANGE_TEXT = `${K_RANGE.min}..${K_RANGE.max}`;

/** Reads a lower-cased `k=` value: 'auto', an allowed k, or undefined for anything else. */
export function readK(word: string): number | 'auto' | undefined {
  if (word === 'auto') return 'auto';
  const k = Number(word);
  return isAllowedK(k) ? k : undefined;
}

/** The one-line refusal of a `k=` value `readK` did not accept. */
export function kNotAllowed(text: string | undefined): string {
  return `k=${text} is not allowed: use k=auto or a whole number from ${K_RANGE.min} to ${K_RANGE.max}`;
}
