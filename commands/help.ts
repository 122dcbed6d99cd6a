import { buildCommandHelp, buildHelpMessage } from '../src/blocks/help-message.ts';
import { UsageError } from '../src/domain/errors.ts';
import type { Subcommand } from '../src/domain/reply.ts';
import { nearestName } from './options.ts';

/** `/audience help [subcommand]`: lists what the app can do, with examples. */
export function createHelpCommand(deps: { commands: () => readonly Subcommand[] }): Subcommand {
  return {
    name: 'help',
    summary: 'List every subcommand with examples, or explain one.',
    usage: '/audience help [subcommand]',
    examples: ['/audience help', '/audience help segments'],
    async run(args) {
      const [topic] = args.positional;
      if (!topic) return buildHelpMessage(deps.commands());
      const command = deps.commands().find((c) => c.name === topic.toLowerCase());
      if (!command) {
        const names = deps.commands().map((c) => c.name);
        const guess = nearestName(topic, names);
        throw new UsageError(
          `there is no subcommand "${topic}"${guess ? ` (did you mean ${guess}?)` : ''}; choose one of: ${names.join(', ')}`,
        );
      }
      return buildCommandHelp(command);
    },
  };
}
