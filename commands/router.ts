import { closest, distance } from 'fastest-levenshtein';
import { buildErrorMessage, buildHelpMessage } from '../src/blocks/help-message.ts';
import {
  type CommandLine,
  type Invocation,
  type Reply,
  type Subcommand,
  UsageError,
} from '../src/domain/reply.ts';
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
      const guess = closest(args.subcommand, names);
      const near = guess !== undefined && distance(guess, args.subcommand) <= Math.max(2, guess.length / 2);
      return buildHelpMessage(commands, {
        problem: `Unknown subcommand "${args.subcommand}".${near ? ` Did you mean \`/audience ${guess}\`?` : ''}`,
      });
    }
    try {
      return await command.run(args, invocation);
    } catch (error) {
      if (isUserFacing(error)) return buildErrorMessage(error.message, `Usage: ${command.usage}`);
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

// Engine modules throw their own error classes for bad input (FeatureError, SegmentError, …); all of them
// are user-facing, so anything named *Error from our code other than an internal TypeError/RangeError is shown.
function isUserFacing(error: unknown): error is Error {
  if (error instanceof UsageError) return true;
  if (!(error instanceof Error)) return false;
  const name = error.name === 'Error' ? error.constructor.name : error.name;
  return /^(Feature|Segment|Predict|Recommend|Filter|Import|Export|Digest|Stats)Error$/.test(name);
}
