import type { KnownBlock } from '@slack/types';

/** What a subcommand answers: fallback text, Block Kit blocks, and the machine-readable result for `--format json`. */
export interface Reply {
  text: string;
  blocks: KnownBlock[];
  data?: unknown;
}

/** Who asked, and through which front door. */
export interface Invocation {
  userId: string;
  channelId: string | null;
  surface: 'slack' | 'console' | 'cli';
}

/** A parsed `/audience <subcommand> [positional …] [key=value …]` line. */
export interface ParsedArgs {
  subcommand: string;
  positional: string[];
  options: Record<string, string>;
  raw: string;
}

/** One `/audience` subcommand, built by a factory over its dependencies. */
export interface Subcommand {
  name: string;
  summary: string;
  usage: string;
  examples: string[];
  run(args: ParsedArgs, invocation: Invocation): Promise<Reply>;
}

/** Bad input from the user: the message is one line saying what was wrong; the router adds the usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}
