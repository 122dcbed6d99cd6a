import type { KnownBlock } from '@slack/types';
import type { Reply, Subcommand } from '../domain/reply.ts';
import { capBlocks, context, divider, escapeMrkdwn, fallbackText, header, section } from './kit.ts';

/**
 * The `/audience help` reply: every subcommand with usage and examples, optionally after a problem line and a
 * command to suggest instead (shown as code: "Did you mean `/audience stats`?").
 */
export function buildHelpMessage(
  commands: readonly Subcommand[],
  options: { problem?: string; suggestion?: string } = {},
): Reply {
  const blocks: KnownBlock[] = [];
  const suggestion = options.suggestion ? ` Did you mean \`${escapeMrkdwn(options.suggestion)}\`?` : '';
  const problem = options.problem ? `${escapeMrkdwn(options.problem)}${suggestion}` : null;
  if (problem) blocks.push(section(`:warning: ${problem}`));
  blocks.push(header('Audience Insights: commands'));
  for (const command of commands) {
    const examples = command.examples.map((e) => `\`${escapeMrkdwn(e)}\``).join('  ');
    blocks.push(
      section(
        `*${escapeMrkdwn(command.name)}*: ${escapeMrkdwn(command.summary)}\n\`${escapeMrkdwn(command.usage)}\`${
          examples ? `\n${examples}` : ''
        }`,
      ),
    );
  }
  blocks.push(
    divider(),
    context([
      'Options are `key=value`. Quote values with spaces: `where="country:United States"`. Compare with `where=followers>=1000` (in a shell, quote it: `audience stats \'where=followers>=1000\'`).',
    ]),
  );
  const list = commands.map((c) => c.name).join(', ');
  const text = problem
    ? `${problem} Commands: ${escapeMrkdwn(list)}.`
    : escapeMrkdwn(`Audience Insights commands: ${list}. Try /audience help.`);
  const error = options.problem
    ? `${options.problem}${options.suggestion ? ` Did you mean \`${options.suggestion}\`?` : ''}`
    : null;
  const data = { ...(error ? { error } : {}), commands: commands.map(describe) };
  return { text: fallbackText(text), blocks: capBlocks(blocks), data };
}

/** One subcommand's help: usage and examples. */
export function buildCommandHelp(command: Subcommand): Reply {
  const blocks: KnownBlock[] = [
    header(`/audience ${command.name}`),
    section(`${escapeMrkdwn(command.summary)}\n\`${escapeMrkdwn(command.usage)}\``),
  ];
  if (command.examples.length > 0) {
    blocks.push(context(command.examples.map((e) => `\`${escapeMrkdwn(e)}\``)));
  }
  if (command.definitions?.length) {
    blocks.push(
      section(
        ['*What the figures mean*', ...command.definitions.map((d) => `• ${escapeMrkdwn(d)}`)].join('\n'),
      ),
    );
  }
  return {
    text: fallbackText(escapeMrkdwn(`${command.summary} Usage: ${command.usage}`)),
    blocks,
    data: describe(command),
  };
}

/** A short ephemeral error: what went wrong, then how to use the command. */
export function buildErrorMessage(problem: string, usage?: string): Reply {
  const blocks: KnownBlock[] = [section(`:warning: ${escapeProblem(problem)}`)];
  if (usage) blocks.push(context([escapeMrkdwn(usage)]));
  return {
    text: fallbackText(escapeProblem(usage ? `${problem} ${usage}` : problem)),
    blocks,
    data: { error: problem, ...(usage ? { usage } : {}) },
  };
}

/**
 * A problem is plain text, escaped like any other; a Slack user mention in it (`<@U012AB3CD>`, the owner a
 * digest refusal points to) is one the app wrote from a stored user id, so it stays a mention instead of
 * reading "&lt;@U012AB3CD&gt;". In an ephemeral reply a mention notifies no one.
 */
function escapeProblem(problem: string): string {
  return escapeMrkdwn(problem).replace(/&lt;@([UW][A-Z0-9]{2,})&gt;/g, '<@$1>');
}

function describe(command: Subcommand) {
  const { name, summary, usage, examples, definitions } = command;
  return { name, summary, usage, examples, ...(definitions?.length ? { definitions } : {}) };
}
