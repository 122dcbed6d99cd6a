import type { ReplyFile } from '../domain/reply.ts';
import type { RenderedChart } from './types.ts';

/** A rendered chart as a reply file: uploaded beside the message in Slack, saved under charts/ locally. */
export function chartFile(chart: RenderedChart): ReplyFile {
  return { filename: `${chart.name}.png`, title: chart.title, content: chart.png, alt: chart.alt };
}
