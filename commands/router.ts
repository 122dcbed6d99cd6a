import { buildErrorMessage, buildHelpMessage } from '../src/blocks/help-message.ts';
import { isUserError, UsageError } from '../src/domain/errors.ts';
import type { CommandLine, Invocation, Reply, Subcommand } from '../src/domain/reply.ts';
import { nearestName } from './options.ts';
import { parseCommand } from './parse.ts';

/** The one command path: Slack, the local console and the CLI all dispatch through a Router. */
export interface Router {
  readonly commands: readonly Subcommand[];
  /**
   * Runs one `/audience …` line, as text or as parsed by `parse`, and always answers with a reply, never a
   * thrown error. Wrappers (guards) forward both forms unchanged.
   */
  dispatch(line: string | CommandLine, invocation: Invocation): Promise<Reply>;
  /** Parses a line once, for callers that keep the parse with the request (Slack: queue, sharing, buttons). */
  parse(text: string): CommandLine;
  /** Looks up a subcommand by name. */
  find(name: string): Subcommand | undefined;
}

/** Receives unexpected errors with context; the user only sees a short apology. */
export type ErrorReporter = (error: unknown, context: { text: string; invocation: Invocation }) => void;

/** Builds a router over the registered subcommands. */
export function createRouter(commands: readonly Subcommand[], reportError: ErrorReporter): Router {
  const byName = new Map(commands.map((c) => [c.name, c]));
  const names = commands.map((c) => c.name);

  function parse(text: string): CommandLine {
    try {
      return { text, args: parseCommand(text), problem: null };
    } catch (error) {
      if (error instanceof UsageError) return { text, args: null, problem: error.message };
      throw error;
    }
  }

  async function dispatch(given: string | CommandLine, invocation: Invocation): Promise<Reply> {
    const line = typeof given === 'string' ? parse(given) : given;
    const { text, args } = line;
    if (!args)
      return buildErrorMessage(line.problem ?? 'unreadable', 'Usage: /audience <subcommand> [key=value …]');
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

  return {
    commands,
    dispatch,
    parse,
    find: (name) => byName.get(name),
  };
}
