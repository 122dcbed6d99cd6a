import { UsageError } from '../src/domain/errors.ts';
import type { ParsedArgs } from '../src/domain/reply.ts';

// Slack clients turn straight quotes into curly ones; treat both the same so quoted values work as typed.
const QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’' };

/** Splits a command line into words, honouring single, double and curly quotes. */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let closing: string | null = null;
  for (const ch of text) {
    if (closing !== null) {
      if (ch === closing || (closing === '”' && ch === '"')) closing = null;
      else current += ch;
    } else if (QUOTES[ch] !== undefined) {
      closing = QUOTES[ch] ?? null;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (closing !== null)
    throw new UsageError(`a quote was opened but never closed: add the closing ${closing}`);
  if (inWord) words.push(current);
  return words;
}

/** Parses `[/audience] <subcommand> [positional …] [key=value …]`; option keys are case-insensitive. */
export function parseCommand(text: string): ParsedArgs {
  const raw = text.trim();
  const words = tokenize(raw);
  if (words[0] === '/audience') words.shift();
  const [first, ...rest] = words;
  const subcommand = (first ?? '').toLowerCase();
  const positional: string[] = [];
  // No prototype: `constructor=` or `__proto__=` are typed names like any other, never inherited members.
  const options: Record<string, string> = Object.create(null);
  for (const word of rest) {
    const eq = word.indexOf('=');
    if (eq > 0 && /^[A-Za-z][\w-]*$/.test(word.slice(0, eq))) {
      const key = word.slice(0, eq).toLowerCase();
      if (Object.hasOwn(options, key)) throw new UsageError(`option ${key}= was given twice: keep one`);
      options[key] = word.slice(eq + 1);
    } else if (eq === 0) {
      throw new UsageError(`"${word}" has no option name before "=": write it as name=value`);
    } else {
      positional.push(word);
    }
  }
  return { subcommand, positional, options, raw };
}
