import { buildErrorMessage, buildHelpMessage } from '../src/blocks/help-message.ts';
import { isUserError, UsageError } from '../src/domain/errors.ts';
import type { Invocation, ParsedArgs, Reply, Subcommand } from '../src/domain/reply.ts';
import { nearestName } from './options.ts';
import { parseCommand } from './parse.ts';

/** The one command path: Slack, the local console and the CLI all dispatch through a Router. */
export interface Router {
  readonly commands: readonly Subcommand[];
  /** Runs one `/audience …` line and always answers with a reply, never a thrown error. */
  dispatch(text: string, invocation: Invocation): Promise<Reply>;
  /** Looks up a subcommand by name. */
  find(name: string): Subcommand | undefined;
}

/** Receives unexpected errors with context; the user only sees a short apology. */
export type ErrorReporter = (error: unknown, context: { text: string; invocation: Invocation }) => void;

/** Builds a router over the registered subcommands. */
export function createRouter(commands: readonly Subcommand[], reportError: ErrorReporter): Router {
  const byName = new Map(commands.map((c) => [c.name, c]));
  const names = commands.map((c) => c.name);

  async function dispatch(text: string, invocation: Invocation): Promise<Reply> {
    let args: ParsedArgs;
    try {
      args = parseCommand(text);
    } catch (error) {
      if (error instanceof UsageError)
        return buildErrorMessage(error.message, 'Usage: /audience <subcommand> [key=value …]');
      throw error;
    }
    if (args.subcommand === '') return buildHelpMessage(commands);
    const command = byName.get(args.subcommand);
    if (!command) {
      const guess = nearestName(args.subcommand, names);
      return buildHelpMessage(commands, {
        problem: `Unknown subcommand "${args.subcommand}".`,
        ...(guess ? { suggestion: `/audience ${guess}` } : {}),
      });
    }
    try {
      return await command.run(args, invocation);
    } catch (error) {
      if (isUserError(error, invocation.surface))
        return buildErrorMessage(error.message, `Usage: ${command.usage}`);
      reportError(error, { text, invocation });
      return buildErrorMessage(
        `Something went wrong while running /audience ${command.name}. It has been logged; try again, or run /audience help.`,
      );
    }
  }

  return { commands, dispatch, find: (name) => byName.get(name) };
}
