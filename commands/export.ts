import { buildExportMessage } from '../src/blocks/export-message.ts';
import { segmentationName } from '../src/blocks/segments-message.ts';
import { UsageError } from '../src/domain/errors.ts';
import { formatUtcDate } from '../src/domain/format.ts';
import type { Subcommand } from '../src/domain/reply.ts';
import { defaultFeatures, predictUsers, SPEND_TARGET } from '../src/engine/predict.ts';
import { recommendForUser } from '../src/engine/recommend.ts';
import {
  EXPORT_KINDS,
  type ExportKind,
  type ExportTable,
  predictionRows,
  recommendationRows,
  segmentRows,
} from '../src/export/rows.ts';
import { toCsv, toJson } from '../src/export/serialize.ts';
import { engineAudience } from '../src/queries/audience.ts';
import { predictionModelFor } from '../src/queries/prediction.ts';
import { recommendationModelFor } from '../src/queries/recommendation.ts';
import { storedDefaultHeader } from '../src/queries/segmentation.ts';
import { runWithAssignments } from '../src/queries/segments-in-store.ts';
import type { CommandDeps } from './deps.ts';
import { checkOptions } from './options.ts';
import { defaultRunFor } from './segments.ts';

const OPTIONS = ['n', 'format'];

/** `/audience export segments|predictions|recommendations`: one row per person, as a CSV or JSON file. */
export function createExportCommand({ store, clock, config }: CommandDeps): Subcommand {
  return {
    name: 'export',
    summary:
      'Export one row per person (segment, predicted spend or top products) as CSV or JSON for email and ad tools.',
    usage: '/audience export segments|predictions|recommendations [n=10] [format=csv|json]',
    examples: [
      '/audience export segments',
      '/audience export recommendations n=3',
      '/audience export predictions format=json',
    ],
    async run(args) {
      checkOptions(args, 'export', { options: OPTIONS, positional: 1 });
      const kind = (args.positional[0] ?? '').toLowerCase() as ExportKind;
      if (!EXPORT_KINDS.includes(kind)) {
        throw new UsageError(`say what to export: ${EXPORT_KINDS.join(', ')}`);
      }
      const fileFormat = (args.options.format ?? 'csv').toLowerCase();
      if (fileFormat !== 'csv' && fileFormat !== 'json')
        throw new UsageError(`format=${args.options.format}: use csv or json`);
      const n = args.options.n === undefined ? 10 : Number(args.options.n);
      if (!Number.isInteger(n) || n < 1 || n > 50)
        throw new UsageError(`n=${args.options.n}: use a whole number from 1 to 50`);

      const data = await engineAudience(store, {
        needs: `export ${kind}`,
        instead:
          'query the database itself for per-person data at this size (README, "Running for a larger team"), or raise SNAPSHOT_MAX_ROWS where the app has the memory for it',
      });
      if (data.profiles.length === 0) {
        throw new UsageError('the audience is empty: import profiles or load the sample first');
      }
      const now = clock().getTime();
      // Exports label people with the default segmentation; a segments export needs it, so it is made if missing.
      const header =
        kind === 'segments'
          ? await defaultRunFor({ store, clock, config }, now)
          : ((await storedDefaultHeader(store)) ?? null);
      // An export labels everyone, so it reads who is where (the header alone has the sizes).
      const run = header && (await runWithAssignments(store, header));
      let table: ExportTable;
      if (run && kind === 'segments') {
        table = segmentRows(data.profiles, run);
      } else if (kind === 'predictions') {
        const features = defaultFeatures(data.attributes, SPEND_TARGET);
        const request = {
          target: SPEND_TARGET,
          features,
          userChoseFeatures: false,
          currency: config.currency,
        };
        const { model } = await predictionModelFor(store, request, now);
        table = predictionRows(predictUsers(model, data), model, run);
      } else {
        const { model } = await recommendationModelFor(store, now);
        const query = { minCohortSize: config.minCohortSize };
        const results = data.profiles.map((p) => recommendForUser(model, data, p.id, n, query));
        table = recommendationRows(results, n, run);
      }
      const filename = `audience-${kind}-${formatUtcDate(now)}.${fileFormat}`;
      const content = fileFormat === 'csv' ? toCsv(table) : toJson(table);
      return buildExportMessage({
        kind,
        filename,
        rows: table.rows.length,
        columns: table.columns,
        bytes: content.length,
        content,
        ...(run && kind === 'segments' ? { segmentation: segmentationName(run.created_at) } : {}),
      });
    },
  };
}
