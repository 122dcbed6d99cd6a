import { buildSegmentsMessage } from '../src/blocks/segments-message.ts';
import { chartFile } from '../src/charts/file.ts';
import { segmentMapFor } from '../src/charts/from-segments.ts';
import { renderChart } from '../src/charts/render.ts';
import { UsageError } from '../src/domain/errors.ts';
import type { Subcommand } from '../src/domain/reply.ts';
import type { SegmentRun } from '../src/domain/types.ts';
import { FeatureError } from '../src/engine/features.ts';
import {
  isScaling,
  K_RANGE_TEXT,
  kNotAllowed,
  readK,
  SCALINGS,
  SEGMENT_DEFAULTS,
} from '../src/engine/segment-defaults.ts';
import { SegmentError } from '../src/engine/segments.ts';
import { cachedResult } from '../src/queries/cache.ts';
import {
  currentDefaultRun,
  defaultRequest,
  defaultSegmentRun,
  type SegmentRequest,
  saveDefaultSegmentation,
  segmentationFor,
  storedDefaultHeader,
} from '../src/queries/segmentation.ts';
import { memoAudience } from '../src/queries/segments-in-store.ts';
import type { CommandDeps } from './deps.ts';
import { checkOptions } from './options.ts';

const OPTIONS = ['k', 'features', 'scaling', 'where', 'seed', 'page'];

/**
 * `/audience segments`: k-means segments with names, sizes, revenue share and traits. Plain, it shows the
 * audience's default segmentation (the one `segment=N`, buttons, digests and exports use); other options give
 * an ad-hoc run that renumbers nothing, unless `save` makes it the new default (src/queries/segmentation.ts).
 */
export function createSegmentsCommand({ store, clock, config }: CommandDeps): Subcommand {
  return {
    name: 'segments',
    summary: 'Customer segments by k-means, each named, sized and explained.',
    usage: `/audience segments [k=auto|${K_RANGE_TEXT}] [features=a,b,…] [scaling=${SCALINGS.join('|')}] [where=…] [save]`,
    examples: ['/audience segments', '/audience segments k=4', '/audience segments k=auto where=country:DE'],
    async run(args, invocation) {
      checkOptions(args, 'segments', { options: OPTIONS, positional: 1 });
      const save = args.positional.length === 1 && args.positional[0]?.toLowerCase() === 'save';
      if (args.positional.length > 0 && !save) {
        throw new UsageError(
          `unexpected "${args.positional.join(' ')}"; write options as key=value, e.g. k=5 (or add save to make it the default)`,
        );
      }
      const { page, ...asked } = parseRequest(args.options);
      const options = Object.keys(args.options).filter((k) => k !== 'page');
      // Plain `segments` is the default segmentation, whatever it was saved with.
      const wanted = options.length === 0 ? defaultRequest(await store.segmentRuns.headers()) : asked;
      const commandLine = `segments ${Object.entries(args.options)
        .filter(([k]) => k !== 'page')
        .map(([k, v]) => (/\s/.test(v) ? `${k}="${v}"` : `${k}=${v}`))
        .join(' ')}`.trim();
      const seg = await segment(wanted, save, clock().getTime());
      const reply = buildSegmentsMessage(seg.result, {
        command: commandLine,
        page,
        filter: wanted.where,
        cached: seg.cached,
        audience: invocation.audience ?? 'private',
        minCohortSize: config.minCohortSize,
        run: {
          createdAt: seg.run.created_at,
          role: save ? 'saved' : seg.isDefault ? 'default' : 'ad-hoc',
          defaultCreatedAt: (await storedDefaultHeader(store))?.created_at ?? null,
          saveCommand: wanted.where === null ? `/audience ${commandLine} save` : null,
        },
      });
      // The picture is an addition: the text is complete without it, so a chart that fails to render is skipped.
      if (config.charts && page === 1) {
        // Rendered once per segment run: everyone opening the same segmentation gets the same picture.
        const audience = await memoAudience(store);
        const chart = await cachedResult(store, audience, `chart|segment-map|${seg.run.id}`, () =>
          renderChart(segmentMapFor(seg.result)).catch(() => null),
        );
        if (chart) reply.files = [chartFile(chart)];
      }
      return reply;
    },
  };

  /** Runs (and stores) the segmentation; `save` makes it the default, which only a whole-audience run can be. */
  async function segment(wanted: SegmentRequest, save: boolean, now: number) {
    if (!save) return segmentationFor(store, wanted, now, config.currency);
    if (wanted.where !== null) {
      throw new UsageError(
        `a filtered segmentation cannot be the default: the default covers the whole audience; remove where=${wanted.where} to save`,
      );
    }
    return { ...(await saveDefaultSegmentation(store, wanted, now, config.currency)), isDefault: true };
  }
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

/**
 * The default segmentation's run for `segment=N` and exports: recomputed (and stored) when the data changed,
 * made when there is none yet. A segmentation the data does not allow is the person's problem, said in words.
 */
export async function defaultRunFor({ store, config }: CommandDeps, now: number): Promise<SegmentRun> {
  const runs = await store.segmentRuns.headers();
  if (!currentDefaultRun(runs)) {
    const adHoc = runs.at(-1);
    throw new UsageError(
      adHoc
        ? `there is no default segmentation yet, only ad-hoc ones (the latest: ${describeRequest(adHoc.request)}), whose numbers segment=N never uses: run /audience segments first to make the default`
        : 'there are no segments yet: run /audience segments first',
    );
  }
  try {
    return await defaultSegmentRun(store, now, config.currency, { record: true });
  } catch (error) {
    if (error instanceof SegmentError || error instanceof FeatureError)
      throw new UsageError(`there are no segments: ${error.message}`);
    throw error;
  }
}

function describeRequest(request: SegmentRequest | undefined): string {
  if (!request) return 'segments';
  const parts = [`k=${request.k}`];
  if (request.features) parts.push(`features=${request.features.join(',')}`);
  if (request.scaling !== 'zscore') parts.push(`scaling=${request.scaling}`);
  if (request.where) parts.push(`where=${request.where}`);
  return `segments ${parts.join(' ')}`;
}
