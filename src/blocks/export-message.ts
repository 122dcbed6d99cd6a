import { formatCompact } from '../domain/format.ts';
import type { Reply } from '../domain/reply.ts';
import { context, escapeMrkdwn, fallbackText, header, section } from './kit.ts';

/** The `/audience export` reply: what the attached file holds. Per person, so never shared to a channel. */
export function buildExportMessage(file: {
  kind: string;
  filename: string;
  rows: number;
  columns: string[];
  bytes: number;
  content: Buffer;
  /** For a segments export: the segmentation its numbers are (`the 7 Dec segmentation`). */
  segmentation?: string;
}): Reply {
  const size =
    file.bytes >= 1024 * 1024
      ? `${(file.bytes / 1024 / 1024).toFixed(1)} MB`
      : `${Math.ceil(file.bytes / 1024)} kB`;
  const summary = `${formatCompact(file.rows)} rows (one per person) in ${escapeMrkdwn(file.filename)}, ${size}`;
  return {
    text: fallbackText(`Export of ${file.kind}: ${formatCompact(file.rows)} rows in ${file.filename}.`),
    blocks: [
      header(`Export: ${file.kind}`),
      section(`${summary}\nColumns: ${file.columns.map((c) => `\`${escapeMrkdwn(c)}\``).join(', ')}`),
      context([
        ...(file.segmentation ? [`Segments of ${file.segmentation} (the default)`] : []),
        'Per-person data: keep it inside the tools your privacy policy allows.',
      ]),
    ],
    data: {
      kind: file.kind,
      filename: file.filename,
      rows: file.rows,
      columns: file.columns,
      bytes: file.bytes,
      perPerson: true,
    },
    files: [{ filename: file.filename, title: `Audience export: ${file.kind}`, content: file.content }],
  };
}
