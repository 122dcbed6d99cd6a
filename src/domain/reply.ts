import type { KnownBlock } from '@slack/types';

/** What a subcommand answers: fallback text, Block Kit blocks, and the machine-readable result for `--format json`. */
export interface Reply {
  text: string;
  blocks: KnownBlock[];
  data?: unknown;
  /** Files that belong with the reply (a CSV export, a chart): uploaded in Slack, written to disk locally. */
  files?: ReplyFile[];
}

/** A file attached to a reply. */
export interface ReplyFile {
  /** A safe file name with its extension, e.g. `audience-segments-2026-06-01.csv`. */
  filename: string;
  title: string;
  content: Buffer;
  /** Alternative text for images, read by screen readers. */
  alt?: string;
}

/** Who asked, and through which front door. */
export interface Invocation {
  userId: string;
  channelId: string | null;
  surface: 'slack' | 'console' | 'cli';
  /**
   * Who will see the reply: `channel` when it is being posted for everyone (Share to channel, digests),
   * so builders hide figures about fewer than MIN_COHORT_SIZE people; default private.
   */
  audience?: 'private' | 'channel';
}

/** A parsed `/audience <subcommand> [positional …] [key=value …]` line. */
export interface ParsedArgs {
  subcommand: string;
  positional: string[];
  options: Record<string, string>;
  raw: string;
}

/** A command line as the router parsed it, once; it travels with the request (queue, share decision, buttons). */
export interface CommandLine {
  /** The line as typed, with or without the leading `/audience`. */
  text: string;
  /** The parse, or null when the line does not parse (`problem` says why, in one line). */
  args: ParsedArgs | null;
  problem: string | null;
}

/** One `/audience` subcommand, built by a factory over its dependencies. */
export interface Subcommand {
  name: string;
  summary: string;
  usage: string;
  examples: string[];
  /** What each figure of the reply means (`help <name>` lists them), for commands that report metrics. */
  definitions?: readonly string[];
  run(args: ParsedArgs, invocation: Invocation): Promise<Reply>;
}
