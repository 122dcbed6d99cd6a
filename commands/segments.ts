import { buildSegmentsMessage } from '../src/blocks/segments-message.ts';
import { chartFile } from '../src/charts/file.ts';
import { segmentMapFor } from '../src/charts/from-segments.ts';
import { renderChart } from '../src/charts/render.ts';
import { type Subcommand, UsageError } from '../src/domain/reply.ts';
import {
  isScaling,
  K_RANGE_TEXT,
  kNotAllowed,
  readK,
  SCALINGS,
  SEGMENT_DEFAULTS,
} from '../src/engine/segment-defaults.ts';
import { engineAudience } from '../src/queries/audience.ts';
import { cachedResult } from '../src/queries/cache.ts';
import { type SegmentRequest, segmentationFor } from '../src/queries/segmentation.ts';
import type { CommandDeps } from './deps.ts';

const OPTIONS = ['k', 'features', 'scaling', 'where', 'seed', 'page'];

/** `/audience segments`: k-means segments with names, sizes, revenue share and traits; stored for digests. */
export function createSegmentsCommand({ store, clock, config }: CommandDeps): Subcommand {
  return {
    name: 'segments',
    summary: 'Customer segments by k-means, each named, sized and explained.',
    usage: `/audience segments [k=auto|${K_RANGE_TEXT}] [features=a,b,…] [scaling=${SCALINGS.join('|')}] [where=…]`,
    examples: ['/audience segments', '/audience segments k=4', '/audience segments k=auto where=country:DE'],
    async run(args, invocation) {
      const unknown = Object.keys(args.options).filter((k) => !OPTIONS.includes(k));
      if (unknown.length > 0) {
        throw new UsageError(
          `segments does not take ${unknown.join('=, ')}=; it takes ${OPTIONS.join(', ')}`,
        );
      }
      if (args.positional.length > 0) {
        throw new UsageError(
          `unexpected "${args.positional.join(' ')}"; write options as key=value, e.g. k=5`,
        );
      }
      const request = parseRequest(args.options);
      const commandLine = `segments ${Object.entries(args.options)
        .filter(([k]) => k !== 'page')
        .map(([k, v]) => (/\s/.test(v) ? `${k}="${v}"` : `${k}=${v}`))
        .join(' ')}`.trim();

      const { page, ...wanted } = request;
      const { result, run, cached } = await segmentationFor(
        store,
        wanted,
        clock().getTime(),
        config.currency,
      );
      const reply = buildSegmentsMessage(result, {
        command: commandLine,
        page,
        filter: request.where,
        cached,
        audience: invocation.audience ?? 'private',
        minCohortSize: config.minCohortSize,
      });
      // The picture is an addition: the text is complete without it, so a chart that fails to render is skipped.
      if (config.charts && page === 1) {
        // Rendered once per segment run: everyone opening the same segmentation gets the same picture.
        const audience = await engineAudience(store);
        const chart = await cachedResult(store, audience, `chart|segment-map|${run.id}`, () =>
          renderChart(segmentMapFor(result)).catch(() => null),
        );
        if (chart) reply.files = [chartFile(chart)];
      }
      return reply;
    },
  };
}

function parseRequest(options: Record<string, string>): SegmentRequest & { page: number } {
  const k = readK((options.k ?? 'auto').toLowerCase());
  if (k === undefined) throw new UsageError(kNotAllowed(options.k));
  const scaling = (options.scaling ?? SEGMENT_DEFAULTS.scaling).toLowerCase();
  if (!isScaling(scaling)) {
    throw new UsageError(`scaling=${options.scaling} is not known: use ${SCALINGS.join(', ')}`);
  }
  const features = options.features
    ? options.features
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)
    : null;
  if (features && features.length === 0)
    throw new UsageError('features= is empty: list feature names, e.g. features=monetary,frequency');
  const seed = options.seed === undefined ? SEGMENT_DEFAULTS.seed : Number(options.seed);
  if (!Number.isInteger(seed) || seed < 0)
    throw new UsageError(`seed=${options.seed} must be a whole number`);
  const page = options.page === undefined ? 1 : Number(options.page);
  if (!Number.isInteger(page) || page < 1) throw new UsageError(`page=${options.page} must be 1 or more`);
  return {
    k,
    features,
    scaling,
    where: options.where ?? null,
    seed,
    page,
  };
}
